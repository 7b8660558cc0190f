"""Lead pools (L9): a total pool with sub-pools, at most three levels; who sees which pool; the
claim limit and the cooldown after a release. Pure Python.

Visibility follows the role matrix of seed 003: marketing (admins, marketing directors and
members) sees every pool, the total pool included; everybody else sees the sub-pools of their
team (a pool's team is its own or its nearest ancestor's) and the sub-pools without a team.
"""
from dataclasses import dataclass

from crmkit.envelope import iso
from crmkit.errors import Invalid

MAX_LEVEL = 3
SEE_ALL_POOLS = frozenset({"admin", "marketing_director", "marketing_member"})
POOL_MAKERS = SEE_ALL_POOLS | {"market_manager"}
CLAIMABLE = ("usable", "raw")  # oldest usable leads first, then raw ones


@dataclass
class Pool:
    id: str
    name: str
    level: int
    created_at: object
    parent_id: str | None = None
    team: str | None = None
    claim_limit: int | None = None
    recycle_days: int | None = None
    cooldown_hours: int | None = None
    created_by: str | None = None

    @classmethod
    def create(cls, *, id, now, parent, created_by, **fields):
        level = 1 if parent is None else parent.level + 1
        if level > MAX_LEVEL:
            raise Invalid(f"Pools nest at most {MAX_LEVEL} levels deep.",
                          {"parent_id": f"A pool under it would be level {level}."})
        return cls(id=id, level=level, created_at=now, parent_id=parent.id if parent else None,
                   created_by=created_by, **fields)

    def to_dict(self):
        return {"id": self.id, "name": self.name, "parent_id": self.parent_id, "level": self.level,
                "team": self.team, "claim_limit": self.claim_limit, "recycle_days": self.recycle_days,
                "cooldown_hours": self.cooldown_hours, "created_by": self.created_by,
                "created_at": iso(self.created_at)}


def team_of(pool, ancestors) -> str | None:
    """The pool's team: its own, else its nearest ancestor's (ancestors: parent first)."""
    for each in (pool, *ancestors):
        if each.team:
            return each.team
    return None


def may_see(pool, ancestors, ctx) -> bool:
    if SEE_ALL_POOLS & set(ctx.roles):
        return True
    if pool.level == 1:
        return False  # the total pool is marketing's
    team = team_of(pool, ancestors)
    return team is None or team == ctx.team
