"""Condition trees (A3) with forgiving matching (A4), compiled once into fast predicates. Pure.

A tree is `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}` or a leaf
`{"field", "op", "value"?}`. `check_condition` validates and canonicalises it (a group of
one is its child); `compile_condition` turns it into a predicate over a `Normal` lead, which
folds each field the first time a leaf reads it (NFKC, trimmed, inner spaces folded,
casefolded) and never again for that lead.
"""
import math
import re
import unicodedata
from datetime import datetime, timezone

from crmkit.errors import Invalid

from .places import places

SECTION_FIELDS = {
    "contact": ("name", "title", "phone", "mobile", "email"),
    "company": ("name", "industry", "city", "province", "country", "address", "phone", "website"),
    "need": ("description", "products", "budget", "timeframe"),
}
TEXT_FIELDS = {f"{s}.{k}" for s, keys in SECTION_FIELDS.items() for k in keys} | \
    {"source", "status", "campaign_id", "pool_id", "owner_id"}
NUMBER_FIELDS = {"quality", "need.budget"}   # quality = quality.score (L8); a budget's leading number
TIME_FIELDS = {"created_at", "updated_at"}
REGION_SECTIONS = {"contact", "company"}      # region(company): city, province, address, phone
FIELDS = TEXT_FIELDS | NUMBER_FIELDS | TIME_FIELDS | {"tags"}
OPS = ("eq", "ne", "contains", "starts_with", "in", "empty", "not_empty", "gt", "gte", "lt", "lte", "region")
NO_VALUE = {"empty", "not_empty"}
ORDERED = {"gt", "gte", "lt", "lte"}
MAX_TEXT = 10000


def fold(value) -> str:
    """Forgiving text: NFKC (full width → half width), trimmed, inner spaces folded, casefolded."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isascii():  # NFKC changes no ASCII text, and casefold is lower there
        return " ".join(text.split()).lower()
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


# -- validation --------------------------------------------------------------------------------------

def _bad(path, message, detail=None):
    raise Invalid(message, {path: detail or message})


def check_condition(node, path="condition"):
    """Validate a tree; returns it canonical. Raises Invalid with the path of the first error."""
    if not isinstance(node, dict):
        _bad(path, "A condition is an object.", "Must be an object.")
    if len(node) == 1 and ("all" in node or "any" in node):
        key = next(iter(node))
        children = node[key]
        if not isinstance(children, list) or not children:
            _bad(f"{path}.{key}", f"'{key}' takes a non-empty list.", "Must be a non-empty list.")
        checked = [check_condition(child, f"{path}.{key}.{i}") for i, child in enumerate(children)]
        return checked[0] if len(checked) == 1 else {key: checked}
    if len(node) == 1 and "not" in node:
        return {"not": check_condition(node["not"], f"{path}.not")}
    unknown = set(node) - {"field", "op", "value"}
    if unknown:
        raise Invalid("Unknown keys in a condition.", {f"{path}.{k}": "Unknown key." for k in sorted(unknown)})
    field, op = node.get("field"), node.get("op")
    if not isinstance(field, str) or field not in FIELDS | REGION_SECTIONS:
        _bad(f"{path}.field", f"Unknown field {field!r}.", "Unknown field.")
    if not isinstance(op, str) or op not in OPS:
        _bad(f"{path}.op", f"Unknown operator {op!r}.", f"Must be one of {', '.join(OPS)}.")
    if field in REGION_SECTIONS and op != "region":
        _bad(f"{path}.field", f"{field!r} alone only takes region.", "Name one of the section's fields.")
    if op in NO_VALUE:
        return {"field": field, "op": op}
    if "value" not in node:
        _bad(f"{path}.value", f"'{op}' needs a value.", "Missing value.")
    _check_value(field, op, node["value"], f"{path}.value")
    return {"field": field, "op": op, "value": node["value"]}


def _scalar(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _check_value(field, op, value, path):
    if op == "region":
        if not isinstance(value, str) or not places().resolve(value):
            _bad(path, f"Unknown place {value!r}.", "Must name a Chinese province or city (e.g. \"上海\", "
                 "\"Shanghai\", \"沪\").")
        if field not in REGION_SECTIONS and field.split(".")[0] not in REGION_SECTIONS:
            _bad(path.rsplit(".", 1)[0] + ".field", "region reads contact or company fields.",
                 "Must be contact, company or one of their fields.")
        return
    if op == "in":
        if not isinstance(value, list) or not value or len(value) > 1000 or not all(_scalar(v) for v in value):
            _bad(path, "'in' takes a list of texts or numbers.", "Must be a non-empty list of texts or numbers.")
        return
    if op in ORDERED:
        if field not in NUMBER_FIELDS | TIME_FIELDS:
            _bad(path.rsplit(".", 1)[0] + ".op", f"'{op}' compares numbers or times.",
                 "Only for quality, need.budget, created_at and updated_at.")
        if field in TIME_FIELDS:
            if _time(value) is None:
                _bad(path, "Not a date or time.", "Must be an ISO 8601 date or time, e.g. \"2024-05-01\".")
        elif not _scalar(value) or isinstance(value, str):
            _bad(path, "Not a number.", "Must be a number.")
        return
    if op in ("contains", "starts_with"):
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            _bad(path, f"'{op}' takes a text.", "Must be a text.")
        if field in NUMBER_FIELDS - TEXT_FIELDS or field in TIME_FIELDS:
            _bad(path.rsplit(".", 1)[0] + ".op", f"'{op}' reads text fields.", "Not for numbers or times.")
        return
    if value is not None and not _scalar(value):  # eq / ne
        _bad(path, "Must be a text, a number or null.")
    if value is not None and field in TIME_FIELDS and _time(value) is None:
        _bad(path, "Not a date or time.", "Must be an ISO 8601 date or time, e.g. \"2024-05-01\".")
    if value is not None and field == "quality" and not isinstance(value, (int, float)):
        _bad(path, "Not a number.", "Must be a number.")


# -- the lead, normalised lazily -------------------------------------------------------------------

def _time(value):
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_SCALE = {"k": 1e3, "千": 1e3, "w": 1e4, "万": 1e4, "m": 1e6, "百万": 1e6, "亿": 1e8}


def _number(value):
    """quality's score; a budget's leading number ("50万" → 500000, "1,200" → 1200)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = fold(value).replace(",", "").replace(" ", "")
    found = _NUMBER.search(text)
    if not found:
        return None
    rest = text[found.end():]
    scale = next((s for unit, s in sorted(_SCALE.items(), key=lambda i: -len(i[0])) if rest.startswith(unit)), 1)
    return float(found.group()) * scale


_PATHS = {name: tuple(name.split(".", 1)) for name in TEXT_FIELDS | NUMBER_FIELDS | TIME_FIELDS | {"tags"}}


def raw_value(lead: dict, name: str):
    """A field as the lead holds it (`quality` is the score)."""
    if name == "quality":
        return (lead.get("quality") or {}).get("score")
    path = _PATHS.get(name) or tuple(name.split(".", 1))
    if len(path) == 2:
        return (lead.get(path[0]) or {}).get(path[1])
    return lead.get(name)


class Normal(dict):
    """A lead's fields as the predicates read them, computed on first use.

    `n["company.city"]` folded text ("" when absent), `n["tags"]` a frozenset of folded
    tags, `n["#quality"]` / `n["#need.budget"]` numbers, `n["@created_at"]` datetimes,
    `n["@region:company"]` the places the section points at (with their provinces).
    """
    __slots__ = ("lead",)

    def __init__(self, lead):
        super().__init__()
        self.lead = lead

    def __missing__(self, key):
        first = key[0]
        if first == "#":
            value = _number(raw_value(self.lead, key[1:]))
        elif first == "@":
            value = region_places(self.lead, key[8:]) if key.startswith("@region:") else \
                _time(raw_value(self.lead, key[1:]))
        elif key == "tags":
            value = frozenset(fold(t) for t in (self.lead.get("tags") or ()) if fold(t))
        else:
            value = fold(raw_value(self.lead, key))
        self[key] = value
        return value


_REGION_FIELDS = {section: [(key, key == "phone") for key in ("city", "province", "address", "phone")]
                  for section in REGION_SECTIONS}


def region_places(lead, field) -> frozenset:
    """The places a section or field points at: names resolved, phones by area code."""
    p = places()
    if field in REGION_SECTIONS:
        values = lead.get(field) or {}
        pairs = [(values.get(key), phone) for key, phone in _REGION_FIELDS[field]]
    else:
        pairs = [(raw_value(lead, field), field.endswith(("phone", "mobile")))]
    found = set()
    for value, phone in pairs:
        if value not in (None, ""):
            found |= p.from_phone(value) if phone else p.resolve(value)
    return p.with_provinces(found)


# -- compiling ---------------------------------------------------------------------------------------

def _compare(op, key, want):
    if op == "gt":
        return lambda n: (v := n[key]) is not None and v > want
    if op == "gte":
        return lambda n: (v := n[key]) is not None and v >= want
    if op == "lt":
        return lambda n: (v := n[key]) is not None and v < want
    return lambda n: (v := n[key]) is not None and v <= want


def _region_leaf(field, value):
    """Stops at the first field that lands in the place (a province takes in its cities)."""
    p = places()
    wanted = p.closure(p.resolve(value))
    if field in REGION_SECTIONS:
        fields = _REGION_FIELDS[field]

        def in_region(n):
            section = n.lead.get(field)
            if not section:
                return False
            for key, phone in fields:
                found = section.get(key)
                if found and not wanted.isdisjoint(p.from_phone(found) if phone else p.resolve(found)):
                    return True
            return False
        return in_region
    phone = field.endswith(("phone", "mobile"))
    return lambda n: bool(value := raw_value(n.lead, field)) and not wanted.isdisjoint(
        p.from_phone(value) if phone else p.resolve(value))


def compile_leaf(node):
    """One leaf as a function of a Normal lead."""
    field, op, value = node["field"], node["op"], node.get("value")
    if op == "region":
        return _region_leaf(field, value)
    if op == "ne":
        inner = compile_leaf({"field": field, "op": "eq", "value": value})
        return lambda n: not inner(n)
    if op == "eq" and value is None:
        op = "empty"
    if field in TIME_FIELDS:
        key = "@" + field
        if op in ("empty", "not_empty"):
            return (lambda n: n[key] is None) if op == "empty" else (lambda n: n[key] is not None)
        wanted = _time(value)
        if op == "eq":
            return lambda n: n[key] == wanted
        if op == "in":
            times = {_time(v) for v in value}
            return lambda n: n[key] in times
        return _compare(op, key, wanted)
    if field == "quality" or (field in NUMBER_FIELDS and (op in ORDERED or isinstance(value, (int, float)))
                              and op != "in"):
        key = "#" + field
        if op in ("empty", "not_empty"):
            return (lambda n: n[key] is None) if op == "empty" else (lambda n: n[key] is not None)
        if op == "eq":
            wanted = float(value)
            return lambda n: n[key] == wanted
        if op == "in":
            numbers = {float(v) for v in value if not isinstance(v, str)}
            return lambda n: n[key] in numbers
        return _compare(op, key, float(value))
    if field == "tags":
        if op == "empty":
            return lambda n: not n["tags"]
        if op == "not_empty":
            return lambda n: bool(n["tags"])
        if op == "eq":
            wanted = fold(value)
            return lambda n: wanted in n["tags"]
        if op == "in":
            wanted_set = frozenset(fold(v) for v in value)
            return lambda n: not wanted_set.isdisjoint(n["tags"])
        wanted = fold(value)
        if op == "contains":
            return lambda n: any(wanted in t for t in n["tags"])
        return lambda n: any(t.startswith(wanted) for t in n["tags"])
    key = field
    if op == "empty":
        return lambda n: not n[key]
    if op == "not_empty":
        return lambda n: bool(n[key])
    if op == "in":
        wanted_set = frozenset(fold(v) for v in value)
        return lambda n: n[key] in wanted_set
    wanted = fold(value)
    if op == "eq":
        return lambda n: n[key] == wanted
    if op == "contains":
        return lambda n: bool(n[key]) and wanted in n[key]
    return lambda n: bool(n[key]) and n[key].startswith(wanted)


def _group(parts, any_):
    """all (any_=False: false at the first false part) or any (any_=True: true at the first true)."""
    if len(parts) == 2:
        a, b = parts
        return (lambda n: a(n) or b(n)) if any_ else (lambda n: a(n) and b(n))

    def group(n):
        for part in parts:
            if bool(part(n)) is any_:
                return any_
        return not any_
    return group


def compile_condition(node):
    """The tree as one predicate over a Normal lead (A4 semantics, short-circuiting)."""
    if "all" in node:
        return _group([compile_condition(child) for child in node["all"]], False)
    if "any" in node:
        return _group([compile_condition(child) for child in node["any"]], True)
    if "not" in node:
        inner = compile_condition(node["not"])
        return lambda n: not inner(n)
    return compile_leaf(node)


def leaves(node, path="condition"):
    """(path, leaf) for every leaf of a tree, left to right."""
    for key in ("all", "any"):
        if key in node:
            for i, child in enumerate(node[key]):
                yield from leaves(child, f"{path}.{key}.{i}")
            return
    if "not" in node:
        yield from leaves(node["not"], f"{path}.not")
        return
    yield path, node


def evaluate(node, lead, forced=None, path="condition") -> tuple[bool, list]:
    """(matched, the leaves that decided, each as {"field", "op", "value"?, "actual", "result"}).

    `lead` is a raw lead or a Normal; `forced` = {path: bool} pretends a leaf came out so
    (what-if, for near misses).
    """
    n = lead if isinstance(lead, Normal) else Normal(lead)
    for key, stop in (("all", False), ("any", True)):
        if key in node:
            decided = []
            for i, child in enumerate(node[key]):
                ok, why = evaluate(child, n, forced, f"{path}.{key}.{i}")
                decided += why
                if ok is stop:
                    return stop, decided
            return not stop, decided
    if "not" in node:
        ok, why = evaluate(node["not"], n, forced, f"{path}.not")
        return not ok, why
    if forced and path in forced:
        result = forced[path]
    else:
        result = compile_leaf(node)(n)
    if node["op"] == "region":
        actual = places().name(n[f"@region:{node['field']}"]) if n[f"@region:{node['field']}"] else None
    else:
        actual = raw_value(n.lead, node["field"])
    return result, [{**node, "actual": actual, "result": result}]
