"""Tables and repositories of the work done on leads: activities, opportunities, accounts, and the
lead's own ending (converted, deleted). On the lead service's one `metadata`, so Alembic sees them."""
import json

from sqlalchemy import (Column, Date, DateTime, Index, Integer, Numeric, String, Table, Text, bindparam,
                        func, insert, select, update)

from .db import SECTION_COLUMNS, leads, metadata
from .work import Account, Activity, Opportunity

activities = Table(
    "activities", metadata,
    Column("id", String(32), primary_key=True),
    Column("lead_id", String(32), nullable=False),
    Column("opportunity_id", String(32)),
    Column("campaign_id", String(32)),
    Column("worker_id", String(32), nullable=False),
    Column("type", String(20), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("effort_hours", Numeric(5, 2), nullable=False),
    Column("cost", Numeric(14, 2)),
    Column("outcome", Text),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_activities_lead", "lead_id", "id"),
    Index("ix_activities_campaign", "campaign_id", "id"),
)

opportunities = Table(
    "opportunities", metadata,
    Column("id", String(32), primary_key=True),
    Column("lead_id", String(32), nullable=False, index=True),
    Column("campaign_id", String(32), index=True),
    Column("pool_id", String(32)),
    Column("account_id", String(32)),
    Column("name", String(200), nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("stage", String(30), nullable=False),
    Column("probability", Integer, nullable=False),
    Column("expected_close", Date),
    Column("status", String(10), nullable=False),
    Column("won_amount", Numeric(14, 2)),
    Column("lost_reason", Text),
    Column("owner_id", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

accounts = Table(
    "accounts", metadata,
    Column("id", String(32), primary_key=True),
    Column("lead_id", String(32), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

_INSERT_ACTIVITY = insert(activities)
_GET_OPPORTUNITY = select(opportunities).where(opportunities.c.id == bindparam("opportunity_id"))
_SET_STATUS = (update(leads).where(leads.c.id == bindparam("lead_id"), leads.c.status == bindparam("b_from"),
                                   leads.c.deleted_at.is_(None))
               .values(status=bindparam("b_status"), updated_at=bindparam("b_at")))
# A deleted lead's personal data: its sections, and the phone numbers searched on (when stored).
PERSONAL_COLUMNS = [name for name in (*SECTION_COLUMNS, "phones", "search_text", "email_key", "phone_key",
                                       "mobile_key", "name_key") if name in leads.c]
_TOMBSTONE = (update(leads).where(leads.c.id == bindparam("lead_id"), leads.c.deleted_at.is_(None))
              .values(tags="[]", deleted_at=bindparam("b_at"), updated_at=bindparam("b_at"),
                      **{name: None for name in PERSONAL_COLUMNS}))


def _filtered(table, query, filters, keys):
    for key in keys:
        if filters.get(key):
            query = query.where(table.c[key] == filters[key])
    return query


class ActivityRepository:
    def __init__(self, session):
        self.session = session

    def add(self, activity: Activity):
        self.session.execute(_INSERT_ACTIVITY, vars(activity))

    def list(self, filters: dict, limit: int, after: str | None) -> list:
        """Oldest first; by lead_id, campaign_id, worker_id. Deleted leads' activities too (C7)."""
        query = _filtered(activities, select(activities), filters, ("lead_id", "campaign_id", "worker_id"))
        if after:
            query = query.where(activities.c.id > after)
        rows = self.session.execute(query.order_by(activities.c.id).limit(limit + 1)).mappings()
        return [Activity(**row) for row in rows]

    def effort(self, lead_id=None, campaign_id=None) -> tuple:
        """(how many activities, their hours) of a lead or a campaign, deleted leads included (C4, C7)."""
        query = select(func.count(), func.coalesce(func.sum(activities.c.effort_hours), 0))
        query = _filtered(activities, query, {"lead_id": lead_id, "campaign_id": campaign_id},
                          ("lead_id", "campaign_id"))
        count, hours = self.session.execute(query).one()
        return count, hours


class OpportunityRepository:
    def __init__(self, session):
        self.session = session

    def add(self, opportunity: Opportunity):
        self.session.execute(insert(opportunities), vars(opportunity))

    def get(self, opportunity_id) -> Opportunity | None:
        row = self.session.execute(_GET_OPPORTUNITY, {"opportunity_id": opportunity_id}).mappings().first()
        return Opportunity(**row) if row else None

    def save(self, opportunity: Opportunity):
        row = vars(opportunity)
        self.session.execute(update(opportunities).where(opportunities.c.id == opportunity.id).values(
            {key: value for key, value in row.items() if key not in ("id", "lead_id", "created_at")}))

    def list(self, filters: dict, limit: int, after: str | None) -> list:
        """Newest first; by campaign_id, lead_id, status."""
        query = _filtered(opportunities, select(opportunities), filters, ("campaign_id", "lead_id", "status"))
        if after:
            query = query.where(opportunities.c.id < after)
        rows = self.session.execute(query.order_by(opportunities.c.id.desc()).limit(limit + 1)).mappings()
        return [Opportunity(**row) for row in rows]


class AccountRepository:
    def __init__(self, session):
        self.session = session

    def add(self, account: Account):
        self.session.execute(insert(accounts), {**vars(account),
                                                "data": json.dumps(account.data, ensure_ascii=False)})

    def get(self, account_id) -> Account | None:
        row = self.session.execute(select(accounts).where(accounts.c.id == account_id)).mappings().first()
        return Account(**{**row, "data": json.loads(row["data"])}) if row else None


class LeadEndingRepository:
    """A lead's two endings the lead repository does not write: converted, and deleted (C7)."""

    def __init__(self, session):
        self.session = session

    def set_status(self, lead_id, status, at, from_status) -> bool:
        """Move the lead from from_status to status; False (nothing written) if it is not in
        from_status any more, or deleted: someone else changed it meanwhile."""
        return self.session.execute(_SET_STATUS, {"lead_id": lead_id, "b_status": status, "b_at": at,
                                                  "b_from": from_status}).rowcount == 1

    def tombstone(self, lead_id, at) -> bool:
        """Mark the lead deleted and blank its personal data (sections, tags); its campaign,
        pool, owner and status stay. False if it was deleted already."""
        return self.session.execute(_TOMBSTONE, {"lead_id": lead_id, "b_at": at}).rowcount == 1
