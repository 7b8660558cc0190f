"""Assignment rules: conditions, recipients, distribution, decisions (A1-A4, A7, A10). Pure.

This is the foundation's engine: all/any/not trees over lead fields with forgiving
text comparison (A4: case, surrounding space and full/half width are ignored).
The full operator set, the text form and `region` belong to the rules-engine issue.
"""
import unicodedata
from dataclasses import dataclass, field

from crmkit.errors import Invalid

SECTIONS = ("contact", "company", "need")
FIELDS = {f"contact.{k}" for k in ("name", "title", "phone", "mobile", "email")} | \
    {f"company.{k}" for k in ("name", "industry", "city", "province", "country", "address", "phone",
                              "website")} | \
    {f"need.{k}" for k in ("description", "products", "budget", "timeframe")} | \
    {"source", "campaign_id", "pool_id", "owner_id", "status", "tags"}
OPS = ("eq", "ne", "contains", "starts_with", "in", "empty", "not_empty")
NO_VALUE = {"empty", "not_empty"}
DISTRIBUTIONS = ("all", "round_robin")


def fold(value) -> str:
    """Forgiving text: NFKC (full width → half width), trimmed, inner spaces folded, casefolded."""
    text = unicodedata.normalize("NFKC", str(value))
    return " ".join(text.split()).casefold()


def check_condition(node, path="condition"):
    """Validate a tree; returns it canonical. Raises Invalid with the path of the first error."""
    if not isinstance(node, dict):
        raise Invalid("A condition is an object.", {path: "Must be an object."})
    if len(node) == 1 and ("all" in node or "any" in node):
        key = next(iter(node))
        children = node[key]
        if not isinstance(children, list) or not children:
            raise Invalid(f"'{key}' takes a non-empty list.", {f"{path}.{key}": "Must be a non-empty list."})
        return {key: [check_condition(child, f"{path}.{key}.{i}") for i, child in enumerate(children)]}
    if len(node) == 1 and "not" in node:
        return {"not": check_condition(node["not"], f"{path}.not")}
    unknown = set(node) - {"field", "op", "value"}
    if unknown:
        raise Invalid("Unknown keys in a condition.", {f"{path}.{k}": "Unknown key." for k in sorted(unknown)})
    if not isinstance(node.get("field"), str) or node["field"] not in FIELDS:
        raise Invalid(f"Unknown field {node.get('field')!r}.", {f"{path}.field": "Unknown field."})
    if node.get("op") not in OPS:
        raise Invalid(f"Unknown operator {node.get('op')!r}.",
                      {f"{path}.op": f"Must be one of {', '.join(OPS)}."})
    if node["op"] in NO_VALUE:
        return {"field": node["field"], "op": node["op"]}
    if "value" not in node:
        raise Invalid(f"'{node['op']}' needs a value.", {f"{path}.value": "Missing value."})
    if node["op"] == "in" and not isinstance(node["value"], list):
        raise Invalid("'in' takes a list.", {f"{path}.value": "Must be a list."})
    return {"field": node["field"], "op": node["op"], "value": node["value"]}


def field_value(lead: dict, name: str):
    if "." in name:
        section, key = name.split(".", 1)
        return (lead.get(section) or {}).get(key)
    return lead.get(name)


def evaluate(node, lead) -> tuple[bool, list]:
    """(matched, the leaves that decided, each as {"field", "op", "value", "actual", "result"})."""
    if "all" in node:
        decided = []
        for child in node["all"]:
            ok, why = evaluate(child, lead)
            decided += why
            if not ok:
                return False, decided
        return True, decided
    if "any" in node:
        decided = []
        for child in node["any"]:
            ok, why = evaluate(child, lead)
            decided += why
            if ok:
                return True, decided
        return False, decided
    if "not" in node:
        ok, why = evaluate(node["not"], lead)
        return not ok, why
    actual = field_value(lead, node["field"])
    result = _leaf(node["op"], actual, node.get("value"))
    return result, [{**node, "actual": actual, "result": result}]


def _leaf(op, actual, expected):
    values = actual if isinstance(actual, list) else [actual]
    present = [v for v in values if v not in (None, "") and fold(v) != ""]
    if op == "empty":
        return not present
    if op == "not_empty":
        return bool(present)
    if op == "ne":
        return not _leaf("eq", actual, expected)
    folded = [fold(v) for v in present]
    if op == "eq":
        return fold(expected) in folded
    if op == "contains":
        return any(fold(expected) in v for v in folded)
    if op == "starts_with":
        return any(v.startswith(fold(expected)) for v in folded)
    if op == "in":
        wanted = {fold(e) for e in expected}
        return any(v in wanted for v in folded)
    raise ValueError(op)


@dataclass
class Rule:
    id: str
    name: str
    condition: dict
    recipients: list  # [{"user_id", "permissions": {...}}]
    distribution: str = "all"
    description: str | None = None
    active: bool = True
    usable_by: list = field(default_factory=list)
    version: int = 1
    created_by: str | None = None
    created_at: object = None
    updated_at: object = None

    def choose(self, turn: int) -> list:
        """The recipients for one lead; `turn` is this rule's round-robin counter (A7)."""
        if not self.recipients:
            return []
        if self.distribution == "round_robin":
            return [self.recipients[turn % len(self.recipients)]]
        return list(self.recipients)


def explain(matched, leaves) -> str:
    parts = [f"{leaf['field']} {leaf['op']} {leaf.get('value')!r} "
             f"({'true' if leaf['result'] else 'false'}: was {leaf['actual']!r})" for leaf in leaves]
    return ("matched: " if matched else "not matched: ") + "; ".join(parts)


_SYMBOLS = {"eq": "=", "ne": "!=", "contains": "contains", "starts_with": "starts with", "in": "in"}


def to_text(node) -> str:
    """The readable form of a tree (A5), e.g. `company.city = "Shanghai" and not need.budget is empty`."""
    import json

    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        joiner = " and " if key == "all" else " or "
        parts = [to_text(child) for child in node[key]]
        parts = [f"({p})" if len(node[key]) > 1 and ("all" in c or "any" in c) else p
                 for p, c in zip(parts, node[key])]
        return joiner.join(parts)
    if "not" in node:
        inner = to_text(node["not"])
        return f"not ({inner})" if ("all" in node["not"] or "any" in node["not"]) else f"not {inner}"
    if node["op"] == "empty":
        return f"{node['field']} is empty"
    if node["op"] == "not_empty":
        return f"{node['field']} is not empty"
    return f"{node['field']} {_SYMBOLS[node['op']]} {json.dumps(node['value'], ensure_ascii=False)}"
