"""Campaigns (C1): fields, types and the status lifecycle. Pure Python."""
from dataclasses import dataclass, field
from decimal import Decimal

from crmkit.envelope import iso
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound

TYPES = ("trade_show", "seminar", "web_registration", "customer_pyramid", "lead_reactivation",
         "email", "advertising", "telemarketing", "other")
STATUSES = ("planned", "active", "completed", "aborted")
TRANSITIONS = {
    "planned": {"active", "aborted"},
    "active": {"completed", "aborted"},
    "completed": set(),
    "aborted": set(),
}
EDITABLE = ("name", "type", "status", "start_date", "end_date", "budget", "expected_revenue",
            "expected_leads", "currency", "parent_id", "owner_id", "description")
MONEY = ("budget", "expected_revenue")

# C2: what a user may do on a campaign, lowest first. The owner and administrators manage;
# marketing directors oversee every campaign and may edit any; participants get what the
# owner gave them; anybody else gets nothing and is told the campaign does not exist.
LEVELS = ("view", "edit", "manage")
ROLE_LEVELS = {"admin": "manage", "marketing_director": "edit"}
SEES_ALL = frozenset(ROLE_LEVELS)


def rank(level):
    return -1 if level is None else LEVELS.index(level)


def highest(*levels):
    return max(levels, key=rank, default=None)


def money(value):
    return None if value is None else f"{Decimal(value).quantize(Decimal('0.01'))}"


@dataclass
class Campaign:
    id: str
    name: str
    type: str
    owner_id: str | None
    created_at: object
    updated_at: object
    status: str = "planned"
    start_date: object = None
    end_date: object = None
    budget: Decimal | None = None
    expected_revenue: Decimal | None = None
    expected_leads: int | None = None
    currency: str = "CNY"
    parent_id: str | None = None
    description: str | None = None
    archived_at: object = None
    participants: dict = field(default_factory=dict)  # user_id -> "view" | "edit" | "manage"

    @classmethod
    def create(cls, *, id, now, owner_id, **fields_):
        campaign = cls(id=id, owner_id=owner_id, created_at=now, updated_at=now,
                       name=fields_.pop("name"), type=fields_.pop("type"))
        for key, value in fields_.items():
            if value is not None:
                setattr(campaign, key, value)
        campaign._check_dates()
        return campaign

    def update(self, changes, now):
        """Apply a partial update; returns {field: {"from", "to"}}. Status moves are checked."""
        if self.archived_at is not None:
            raise Conflict("An archived campaign cannot be changed.")
        diff = {}
        if "status" in changes and changes["status"] != self.status:
            if changes["status"] not in TRANSITIONS[self.status]:
                raise Conflict(f"A campaign cannot go from {self.status} to {changes['status']}.",
                               {"status": f"Allowed from {self.status}: "
                                          f"{', '.join(sorted(TRANSITIONS[self.status])) or 'none'}."})
        for key in EDITABLE:
            if key == "currency" and changes.get(key) is None:
                continue  # a campaign always has a currency; null means "not given", as in create
            if key in changes and changes[key] != getattr(self, key):
                if key == "name" and not changes[key]:
                    raise Invalid("A campaign needs a name.", {"name": "Must not be empty."})
                diff[key] = {"from": _plain(getattr(self, key)), "to": _plain(changes[key])}
                setattr(self, key, changes[key])
        if diff:
            self._check_dates()
            self.updated_at = now
        return diff

    def permission_of(self, user_id, roles=()):
        """C2: the caller's level on this campaign (None: no access at all)."""
        own = "manage" if user_id is not None and user_id == self.owner_id else None
        return highest(own, self.participants.get(user_id), *(ROLE_LEVELS.get(r) for r in roles))

    def require(self, ctx, level):
        """NotFound for a user with no access (existence is private); Forbidden below `level`."""
        have = self.permission_of(ctx.user_id, ctx.roles)
        if have is None:
            raise NotFound(f"Campaign {self.id} does not exist.", {"campaign_id": self.id})
        if rank(have) < rank(level):
            raise Forbidden(f"This needs {level} permission on the campaign; you have {have}.",
                            {"permission": f"Needs {level}."})
        return have

    def set_participants(self, given, now):
        """C2: replace the participants; returns {"added", "removed", "changed"} (empty lists: no change)."""
        new = {}
        for index, item in enumerate(given):
            if item["user_id"] in new:
                raise Invalid("A user appears twice.", {f"{index}.user_id": "Listed twice."})
            new[item["user_id"]] = item["permission"]
        old = self.participants
        changes = {
            "added": [{"user_id": u, "permission": p} for u, p in sorted(new.items()) if u not in old],
            "removed": [{"user_id": u, "permission": p} for u, p in sorted(old.items()) if u not in new],
            "changed": [{"user_id": u, "from": old[u], "to": p} for u, p in sorted(new.items())
                        if u in old and old[u] != p],
        }
        if any(changes.values()):
            self.participants = new
            self.updated_at = now
        return changes

    def require_open(self):
        if self.archived_at is not None:
            raise Conflict("The campaign is archived.", {"campaign_id": "Archived campaign."})

    def _check_dates(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise Invalid("A campaign cannot end before it starts.",
                          {"end_date": "Must not be before start_date."})

    def to_dict(self):
        return {
            "id": self.id, "name": self.name, "type": self.type, "status": self.status,
            "start_date": _plain(self.start_date), "end_date": _plain(self.end_date),
            "budget": money(self.budget), "expected_revenue": money(self.expected_revenue),
            "expected_leads": self.expected_leads, "currency": self.currency,
            "parent_id": self.parent_id, "owner_id": self.owner_id, "description": self.description,
            "archived": self.archived_at is not None, "archived_at": iso(self.archived_at),
            "participants": [{"user_id": u, "permission": p} for u, p in sorted(self.participants.items())],
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
        }


def _plain(value):
    if isinstance(value, Decimal):
        return money(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@dataclass
class Expense:
    """An explicit cost entered against a campaign (C3); removing one keeps it as an audit row."""
    id: str
    campaign_id: str
    amount: Decimal
    category: str
    created_at: object
    created_by: str | None = None
    spent_on: object = None
    note: str | None = None
    lead_id: str | None = None
    removed_at: object = None
    removed_by: str | None = None

    def remove(self, actor_id, now):
        if self.removed_at is not None:
            raise Conflict("The expense was removed already.")
        self.removed_at, self.removed_by = now, actor_id

    def to_dict(self):
        return {"id": self.id, "campaign_id": self.campaign_id, "amount": money(self.amount),
                "category": self.category, "date": _plain(self.spent_on), "note": self.note,
                "lead_id": self.lead_id, "created_by": self.created_by, "created_at": iso(self.created_at),
                "removed": self.removed_at is not None, "removed_at": iso(self.removed_at),
                "removed_by": self.removed_by}
