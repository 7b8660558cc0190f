"""Assignment rules: recipients, distribution, decisions (A1, A2, A6, A7, A10). Pure.

Conditions and their matching live in conditions.py (A3, A4), the text form in text.py (A5),
preview and lint in analysis.py (A8).
"""
from dataclasses import dataclass, field

from .conditions import (FIELDS, NO_VALUE, OPS, Normal, check_condition, compile_condition,  # noqa: F401
                         evaluate, fold)
from .text import to_text  # noqa: F401

SECTIONS = ("contact", "company", "need")
DISTRIBUTIONS = ("all", "round_robin", "least_loaded", "weighted")
TAKES_TURNS = {"round_robin", "weighted", "least_loaded"}
MARKETING_OR_MANAGER = {"admin", "marketing_director", "marketing_member", "market_manager", "sales_manager"}
ASSIGNS_ANY_LEAD = {"admin", "marketing_director"}
MANAGERS = {"market_manager", "sales_manager"}


@dataclass
class Rule:
    id: str
    name: str
    condition: dict
    recipients: list  # [{"user_id" | "team", "permissions": {...}, "weight"?}]
    distribution: str = "all"
    description: str | None = None
    active: bool = True
    usable_by: list = field(default_factory=list)
    continues: bool = False
    version: int = 1
    created_by: str | None = None
    created_at: object = None
    updated_at: object = None

    def may_be_used_by(self, user_id, roles) -> bool:
        """A1: listed in usable_by; an empty list means any marketing or manager role (and admins)."""
        if "admin" in roles:
            return True
        if self.usable_by:
            return user_id in self.usable_by
        return bool(MARKETING_OR_MANAGER & set(roles))


_PREDICATES = {}


def predicate(rule: Rule):
    """The rule's condition compiled once per (id, version) (performance: rules are compiled once)."""
    key = (rule.id, rule.version)
    found = _PREDICATES.get(key)
    if found is None:
        if len(_PREDICATES) > 20000:
            _PREDICATES.clear()
        found = _PREDICATES[key] = compile_condition(rule.condition)
    return found


def expand(recipients, directory) -> list:
    """A2/A7: teams become their active members (at decision time); inactive users drop out.

    `directory` answers known(user_ids) → {id: {"team", "active"}} and active_members(team).
    Users the service has not heard of yet are kept (the gateway checked them when the rule
    was written). Returns [{"user_id", "permissions", "weight"}], each user once.
    """
    people, seen = [], set()
    named = [r["user_id"] for r in recipients if r.get("user_id")]
    known = directory.known(named) if named else {}
    for recipient in recipients:
        if recipient.get("team"):
            ids = directory.active_members(recipient["team"])
        elif known.get(recipient["user_id"], {}).get("active", True):
            ids = [recipient["user_id"]]
        else:
            ids = []
        for user_id in ids:
            if user_id not in seen:
                seen.add(user_id)
                people.append({"user_id": user_id, "permissions": recipient["permissions"],
                               "weight": recipient.get("weight") or 1})
    return people


def weighted_order(weights) -> list:
    """Smooth weighted round robin (nginx): a fair interleaving of indices, len = sum(weights)."""
    current = [0] * len(weights)
    total = sum(weights)
    order = []
    for _ in range(total):
        for i, weight in enumerate(weights):
            current[i] += weight
        best = max(range(len(weights)), key=lambda i: current[i])
        current[best] -= total
        order.append(best)
    return order


def choose(distribution, people, turn=None, load=None) -> tuple[list, str]:
    """(the recipients for one lead, why). `turn` is the rule's counter kept in the database
    (round_robin, weighted); `load` the open leads per user (least_loaded)."""
    if not people:
        return [], "no active recipient"
    if distribution == "round_robin":
        chosen = people[turn % len(people)]
        why = f"round robin chose {chosen['user_id']}"
    elif distribution == "weighted":
        order = weighted_order([p["weight"] for p in people])
        chosen = people[order[turn % len(order)]]
        why = f"weighted turn chose {chosen['user_id']} (weight {chosen['weight']})"
    elif distribution == "least_loaded":
        fewest = min(load.get(p["user_id"], 0) for p in people)
        tied = [p for p in people if load.get(p["user_id"], 0) == fewest]  # ties in turn, so a lagging
        chosen = tied[(turn or 0) % len(tied)]                                # count does not pile up
        why = f"least loaded chose {chosen['user_id']} ({load.get(chosen['user_id'], 0)} open leads)"
    else:
        return [{"user_id": p["user_id"], "permissions": p["permissions"]} for p in people], "all recipients"
    return [{"user_id": chosen["user_id"], "permissions": chosen["permissions"]}], why


def explain(matched, leaves) -> str:
    parts = [f"{leaf['field']} {leaf['op']} {leaf.get('value')!r} "
             f"({'true' if leaf['result'] else 'false'}: was {leaf['actual']!r})" for leaf in leaves]
    return ("matched: " if matched else "not matched: ") + "; ".join(parts)


def may_manage_lead(lead, user_id, roles, team, teams) -> bool:
    """A6: the owner, an admin or marketing director, or a manager of the owner's team."""
    if lead.get("owner_id") == user_id or ASSIGNS_ANY_LEAD & set(roles):
        return True
    return bool(MANAGERS & set(roles)) and team is not None and teams.get(lead.get("owner_id")) == team
