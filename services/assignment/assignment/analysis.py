"""Risk control (A8): preview with near misses, and lint. Pure.

A near miss is a lead the rule does not match but would if one failing leaf were true, when
that leaf fails for a reason a person would call a slip: the city is empty but the phone's
area code is in the wanted place; the text is one edit (a typo, two letters swapped) from
the wanted one; the text names the same place in another script ("上海" for "Shanghai").

Lint probes the rule with leads built from its own values (each value, a neighbour of it,
an empty field, an unrelated text), every combination up to MAX_PROBES: a rule no probe
matches can never match (contradictory leaves), one every probe matches is always true, and
one whose every match is also matched by an earlier rule of its campaign is shadowed.
"""
import itertools
import random
from datetime import datetime, timedelta, timezone

from .conditions import (REGION_SECTIONS, TIME_FIELDS, Normal, _time, compile_condition,
                         evaluate, fold, leaves, raw_value)
from .places import key as place_key
from .places import places

MAX_PROBES = 4096
OTHER = "zz-other"


def one_edit(a: str, b: str) -> bool:
    """True when a and b differ by exactly one insertion, deletion, substitution or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = sorted((a, b), key=len)
    i = next((i for i in range(len(short)) if short[i] != long_[i]), len(short))
    return short[i:] == long_[i + 1:]


def _place_names(places_found):
    p = places()
    names = set()
    for place in places_found:
        names.add(place.split("/")[-1])
        names.add(p.display[place].split(" (")[0])
    return names


def _why(leaf, n):
    """A slip that explains why this leaf failed on this lead, or None."""
    field, op, value = leaf["field"], leaf["op"], leaf.get("value")
    p = places()
    wanted = value if isinstance(value, list) else [value]
    wanted = [w for w in wanted if isinstance(w, str)]
    if not wanted or op not in ("eq", "in", "starts_with", "region"):
        return None
    if op == "region":
        targets = p.resolve(value)
        checked = [f"{field}.city", f"{field}.province"] if field in REGION_SECTIONS else [field]
        for name in checked:
            actual = raw_value(n.lead, name)
            if actual and not p.resolve(actual):
                close = sorted(w for w in _place_names(targets) if one_edit(place_key(actual), place_key(w)))
                if close:
                    return f"{name} {actual!r} is one edit from {close[0]!r}"
        return None
    actual = raw_value(n.lead, field)
    if not fold(actual):
        if field in ("company.city", "company.province"):
            for phone_field in ("company.phone", "contact.phone"):
                phone = raw_value(n.lead, phone_field)
                found = p.with_provinces(p.from_phone(phone))
                for w in wanted:
                    if found & p.resolve(w):
                        return f"{phone_field.split('.')[0]} phone {phone} is in {w} but {field} is empty"
        return None
    for w in wanted:
        if one_edit(fold(actual), fold(w)):
            return f"{field} {actual!r} is one edit from {w!r}"
    if field in ("company.city", "company.province"):
        for w in wanted:
            if p.resolve(actual) & p.resolve(w):
                return f"{field} {actual!r} is the same place as {w!r} (region({field}) = {w!r} would match)"
    return None


def preview(condition, leads) -> dict:
    """{"matched", "unmatched", "near_misses": [{"lead_id", "why"}]} over these leads."""
    match = compile_condition(condition)
    result = {"matched": [], "unmatched": [], "near_misses": []}
    for lead in leads:
        n = Normal(lead)
        if match(n):
            result["matched"].append(lead["id"])
            continue
        result["unmatched"].append(lead["id"])
        whys = []
        for path, leaf in leaves(condition):
            why = _why(leaf, n)
            if why and evaluate(condition, n, forced={path: True})[0]:
                whys.append(why)
        if whys:
            result["near_misses"].append({"lead_id": lead["id"], "why": "; ".join(whys)})
    return result


# -- lint --------------------------------------------------------------------------------------------

def _filler(field) -> set:
    """Empty, and some value that none of the rule's own values is."""
    if field == "quality":
        return {None, -1}
    if field in TIME_FIELDS:
        return {None, datetime(2000, 1, 1, tzinfo=timezone.utc)}
    return {None, OTHER}


def _candidates(conditions) -> dict:
    """field → the raw values worth trying, from the leaves of these trees."""
    found = {}
    for condition in conditions:
        for _, leaf in leaves(condition):
            field, op, value = leaf["field"], leaf["op"], leaf.get("value")
            if op == "region":
                names = sorted(place for place in places().resolve(value))
                target = f"{field}.city" if field in REGION_SECTIONS else field
                values = [name.split("/")[-1] for name in names]
                if target.endswith("phone"):
                    codes = [c for c, cities in places().by_code.items() if cities & set(names)]
                    values = [f"{c}-62991640" for c in codes[:3]]
                found.setdefault(target, {None, OTHER}).update(values)
                continue
            values = value if isinstance(value, list) else [value]
            bucket = found.setdefault(field, _filler(field))
            for v in values:
                if v is None:
                    continue
                if field in TIME_FIELDS:
                    moment = _time(v)
                    bucket.update(iso for iso in (moment, moment + timedelta(days=1), moment - timedelta(days=1)))
                elif isinstance(v, (int, float)):
                    bucket.update((v, v + 1, v - 1))
                else:
                    bucket.update((v, f"{v}x", f"x{v}"))
            texts = [v for v in values if isinstance(v, str)]
            if len(texts) > 1:
                bucket.add(" ".join(texts))
    return found


def _lead(assignment) -> dict:
    lead = {"id": "probe", "contact": {}, "company": {}, "need": {}, "tags": []}
    for field, value in assignment.items():
        if value is None:
            continue
        if field == "tags":
            lead["tags"] = [value]
        elif field == "quality":
            lead["quality"] = {"score": value}
        elif field in TIME_FIELDS:
            lead[field] = value.isoformat()
        elif "." in field:
            section, key = field.split(".", 1)
            lead[section][key] = value
        else:
            lead[field] = value
    return lead


def probes(*conditions) -> list:
    found = _candidates(conditions)
    fields = sorted(found)
    pools = [sorted(found[f], key=repr) for f in fields]
    total = 1
    for pool in pools:
        total *= len(pool)
    if total <= MAX_PROBES:
        combos = itertools.product(*pools)
    else:
        rng = random.Random(7)
        combos = ([rng.choice(pool) for pool in pools] for _ in range(MAX_PROBES))
    return [Normal(_lead(dict(zip(fields, combo)))) for combo in combos]


def lint(rule, earlier_by_campaign) -> dict:
    """{"rule_id", "findings": [{"kind", "message", …}], "probes"}."""
    match = compile_condition(rule.condition)
    tried = probes(rule.condition)
    hits = [n for n in tried if match(n)]
    findings = []
    if not hits:
        findings.append({"kind": "never_matches", "message":
                         f"None of {len(tried)} leads built from the rule's own values matches: "
                         "its conditions contradict each other."})
    elif len(hits) == len(tried):
        findings.append({"kind": "always_true", "message":
                         f"All {len(tried)} leads built from the rule's own values match, the empty one too: "
                         "it matches every lead."})
    for campaign_id, earlier in sorted(earlier_by_campaign.items()):
        for other in earlier:
            other_match = compile_condition(other.condition)
            both = probes(rule.condition, other.condition)
            mine = [n for n in both if match(n)]
            if mine and all(other_match(n) for n in mine):
                findings.append({"kind": "shadowed", "campaign_id": campaign_id, "by_rule_id": other.id,
                                 "message": f"Every lead this rule matches is taken first by {other.name!r} "
                                            f"in campaign {campaign_id} ({len(mine)} probes)."})
                break
    return {"rule_id": rule.id, "version": rule.version, "findings": findings, "probes": len(tried)}
