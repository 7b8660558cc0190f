"""Work done on leads: activities and their effort (L12, C4), the opportunities and the account a
lead is converted into (L10, L11). Activities and opportunities outlive their lead (C7).

Pure Python: no Nameko, no SQLAlchemy.
"""
from dataclasses import dataclass
from datetime import timezone
from decimal import Decimal

from crmkit.envelope import iso
from crmkit.errors import Conflict, Invalid

ACTIVITY_TYPES = ("task", "call", "meeting", "visit", "email")
MAX_EFFORT_HOURS = Decimal(24)
MAX_MONEY = Decimal(10 ** 12 - 1)
CENT = Decimal("0.01")

STAGES = ("qualification", "needs_analysis", "proposal", "negotiation")
STAGE_PROBABILITY = {"qualification": 10, "needs_analysis": 25, "proposal": 50, "negotiation": 75}
OPPORTUNITY_FIELDS = ("name", "amount", "stage", "probability", "expected_close")
CONVERTIBLE = ("raw", "usable", "working")


def money(value) -> str | None:
    """A Decimal as the API shows money: "1234.50"."""
    return None if value is None else str(Decimal(value).quantize(CENT))


def _amount(value, path) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (ArithmeticError, ValueError, TypeError):
        raise Invalid("Not a valid amount.", {path: "Not a valid amount."}) from None
    if not amount.is_finite() or not 0 <= amount <= MAX_MONEY:
        raise Invalid("An amount is between 0 and 999999999999.", {path: "Must be 0 to 999999999999."})
    return amount


def _hours(value) -> Decimal:
    try:
        effort = Decimal(str(value)).quantize(CENT)
    except (ArithmeticError, ValueError, TypeError):
        raise Invalid("Not a number of hours.", {"effort_hours": "Not a valid number."}) from None
    if not effort.is_finite() or not 0 < effort <= MAX_EFFORT_HOURS:
        raise Invalid("Effort is more than 0 and at most 24 hours.",
                      {"effort_hours": "Must be more than 0 and at most 24."})
    return effort


def _text(value, path, required=False):
    value = value.strip() if isinstance(value, str) else value
    if required and not value:
        raise Invalid(f"{path} is required.", {path: "Must not be empty."})
    return value or None


@dataclass
class Activity:
    """A task, call, meeting, visit or e-mail on a lead (or one of its opportunities), with the
    hours it took (L12). It keeps the lead's campaign, so its effort counts there even after the
    lead is deleted (C4, C7)."""
    id: str
    lead_id: str
    campaign_id: str | None
    worker_id: str | None
    type: str
    subject: str
    effort_hours: Decimal
    occurred_at: object
    created_at: object
    opportunity_id: str | None = None
    cost: Decimal | None = None
    outcome: str | None = None

    @classmethod
    def log(cls, *, id, lead, worker_id, now, type, subject, effort_hours, cost=None, outcome=None,
            occurred_at=None, opportunity_id=None):
        if type not in ACTIVITY_TYPES:
            raise Invalid("Unknown activity type.", {"type": f"Must be one of: {', '.join(ACTIVITY_TYPES)}."})
        return cls(id=id, lead_id=lead.id, campaign_id=lead.campaign_id, worker_id=worker_id, type=type,
                   subject=_text(subject, "subject", required=True), effort_hours=_hours(effort_hours),
                   cost=None if cost is None else _amount(cost, "cost"), outcome=_text(outcome, "outcome"),
                   occurred_at=occurred_at.astimezone(timezone.utc) if occurred_at else now, created_at=now,
                   opportunity_id=opportunity_id)

    def to_dict(self):
        return {"id": self.id, "lead_id": self.lead_id, "opportunity_id": self.opportunity_id,
                "campaign_id": self.campaign_id, "worker_id": self.worker_id, "type": self.type,
                "subject": self.subject, "effort_hours": hours(self.effort_hours), "cost": money(self.cost),
                "outcome": self.outcome, "occurred_at": iso(self.occurred_at),
                "created_at": iso(self.created_at)}


@dataclass
class Opportunity:
    """A chance to sell, born of a converted lead; it keeps the lead, its campaign and its pool
    (L10) so that won revenue counts for the campaign (L11). Won and lost are final."""
    id: str
    lead_id: str
    campaign_id: str | None
    pool_id: str | None
    name: str
    amount: Decimal
    owner_id: str | None
    created_at: object
    updated_at: object
    account_id: str | None = None
    stage: str = "qualification"
    probability: int = 10
    expected_close: object = None
    status: str = "open"
    won_amount: Decimal | None = None
    lost_reason: str | None = None
    closed_at: object = None

    @classmethod
    def open(cls, *, id, lead, owner_id, now, name, amount, stage=None, probability=None,
             expected_close=None, account_id=None):
        stage = _stage(stage or "qualification")
        return cls(id=id, lead_id=lead.id, campaign_id=lead.campaign_id, pool_id=lead.pool_id,
                   name=_text(name, "name", required=True), amount=_amount(amount, "amount"),
                   owner_id=owner_id, created_at=now, updated_at=now, account_id=account_id, stage=stage,
                   probability=STAGE_PROBABILITY[stage] if probability is None else _probability(probability),
                   expected_close=expected_close)

    def _require_open(self):
        if self.status != "open":
            raise Conflict(f"The opportunity is {self.status}; it changes no more.", {"status": self.status})

    def change(self, values: dict, now) -> dict:
        """Amount, stage, probability, expected close (or name); returns {field: {"from", "to"}}."""
        self._require_open()
        checks = {"name": lambda v: _text(v, "name", required=True), "amount": lambda v: _amount(v, "amount"),
                  "stage": _stage, "probability": _probability, "expected_close": lambda v: v}
        changes = {}
        for key in OPPORTUNITY_FIELDS:
            if key in values:
                value = checks[key](values[key])
                if value != getattr(self, key):
                    changes[key] = {"from": _shown(getattr(self, key)), "to": _shown(value)}
                    setattr(self, key, value)
        if changes:
            self.updated_at = now
        return changes

    def win(self, now, amount=None):
        """Won for `amount` (the opportunity's amount unless given); final."""
        self._require_open()
        self.won_amount = self.amount if amount is None else _amount(amount, "amount")
        self.status, self.probability, self.closed_at, self.updated_at = "won", 100, now, now

    def lose(self, now, reason):
        self._require_open()
        self.lost_reason = _text(reason, "reason", required=True)
        self.status, self.probability, self.closed_at, self.updated_at = "lost", 0, now, now

    def to_dict(self):
        return {"id": self.id, "lead_id": self.lead_id, "campaign_id": self.campaign_id,
                "pool_id": self.pool_id, "account_id": self.account_id, "name": self.name,
                "amount": money(self.amount), "stage": self.stage, "probability": self.probability,
                "expected_close": iso_date(self.expected_close), "status": self.status,
                "won_amount": money(self.won_amount), "lost_reason": self.lost_reason,
                "owner_id": self.owner_id, "created_at": iso(self.created_at),
                "updated_at": iso(self.updated_at), "closed_at": iso(self.closed_at)}


def iso_date(value):
    return value.isoformat() if value is not None else None


def _shown(value):
    """A field's value as events and history show it (JSON: money and dates as strings)."""
    if isinstance(value, Decimal):
        return money(value)
    return iso_date(value) if hasattr(value, "isoformat") else value


def _stage(value):
    if value not in STAGES:
        raise Invalid("Unknown stage.", {"stage": f"Must be one of: {', '.join(STAGES)}."})
    return value


def _probability(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise Invalid("A probability is a whole number from 0 to 100.", {"probability": "Must be 0 to 100."})
    return value


@dataclass
class Account:
    """The customer a converted lead becomes (L10): its contact and company sections, kept."""
    id: str
    lead_id: str
    name: str
    data: dict
    created_at: object

    @classmethod
    def from_lead(cls, *, id, lead, now, name=None):
        name = _text(name, "account.name") or lead.company.get("name") or lead.contact.get("name")
        return cls(id=id, lead_id=lead.id, name=name,
                   data={"contact": dict(lead.contact), "company": dict(lead.company)}, created_at=now)

    def to_dict(self):
        return {"id": self.id, "lead_id": self.lead_id, "name": self.name, "contact": dict(self.data["contact"]),
                "company": dict(self.data["company"]), "created_at": iso(self.created_at)}


def convert(lead, now):
    """L6: raw, usable or working → converted (final); returns the change. Conflict otherwise."""
    if lead.status not in CONVERTIBLE:
        raise Conflict(f"A {lead.status} lead cannot be converted.", {"status": lead.status})
    change = {"status": {"from": lead.status, "to": "converted"}}
    lead.status, lead.updated_at = "converted", now
    return change


def hours(value) -> float:
    """Hours as the API shows them: a number, to the hundredth."""
    return float(Decimal(str(value)).quantize(CENT))
