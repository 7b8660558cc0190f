"""The reporting service's projection tables and unit of work."""
from sqlalchemy import (Column, DateTime, MetaData, Numeric, String, Table, bindparam, insert, select,
                        update)

from sqlalchemy import func

from crmkit.db import SqlUnitOfWork, insert_ignore, messaging_tables, upsert_add

metadata = MetaData()
outbox, inbox = messaging_tables(metadata)

campaigns = Table(
    "report_campaigns", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200)),
    Column("budget", Numeric(14, 2)),
    Column("expected_revenue", Numeric(14, 2)),
    Column("updated_at", DateTime(timezone=True)),
)

# One number per (campaign, dimension, key): ("status", "raw") → 12, ("leads", "total") → 40 …
counters = Table(
    "report_counters", metadata,
    Column("campaign_id", String(32), primary_key=True),
    Column("dimension", String(30), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("value", Numeric(18, 2), nullable=False),
)

# What reporting knows of each lead, to move counts when it changes.
lead_facts = Table(
    "report_leads", metadata,
    Column("id", String(32), primary_key=True),
    Column("campaign_id", String(32), index=True),
    Column("status", String(20)),
    Column("source", String(50)),
    Column("assigned", String(1)),
    Column("updated_at", DateTime(timezone=True)),
)


# Statements built once and reused: SQLAlchemy then skips rebuilding and re-keying them.
_TOUCH_CAMPAIGN = (update(campaigns).where(campaigns.c.id == bindparam("campaign_id"))
                   .values(updated_at=bindparam("at")))
_INSERT_CAMPAIGN = insert(campaigns)
_GET_CAMPAIGN = select(campaigns).where(campaigns.c.id == bindparam("campaign_id"))
_COUNTS = (select(counters.c.dimension, counters.c.key, counters.c.value)
           .where(counters.c.campaign_id == bindparam("campaign_id")))
_GET_LEAD = select(lead_facts).where(lead_facts.c.id == bindparam("lead_id"))
_MARK_ASSIGNED = (update(lead_facts).where(lead_facts.c.id == bindparam("lead_id"),
                                          lead_facts.c.assigned == "0")
                  .values(assigned="1", updated_at=bindparam("at")))
_LAST_CHANGE = select(func.max(lead_facts.c.updated_at)).where(
    lead_facts.c.campaign_id == bindparam("campaign_id"))


class ReportRepository:
    def __init__(self, session):
        self.session = session

    def put_campaign(self, data, at):
        values = {"name": data.get("name"), "budget": data.get("budget"),
                  "expected_revenue": data.get("expected_revenue"), "updated_at": at}
        done = self.session.execute(update(campaigns).where(campaigns.c.id == data["id"]).values(**values)).rowcount
        if not done:
            self.session.execute(insert(campaigns).values(id=data["id"], **values))

    def touch_campaign(self, campaign_id, at):
        done = self.session.execute(_TOUCH_CAMPAIGN, {"campaign_id": campaign_id, "at": at}).rowcount
        if not done:
            self.session.execute(_INSERT_CAMPAIGN, {"id": campaign_id, "updated_at": at})

    def campaign(self, campaign_id):
        row = self.session.execute(_GET_CAMPAIGN, {"campaign_id": campaign_id}).mappings().first()
        return dict(row) if row else None

    def add(self, campaign_id, dimension, key, delta):
        self.add_many(campaign_id, [(dimension, key, delta)])

    def add_many(self, campaign_id, deltas):
        """Add to several counters in one statement: [(dimension, key, delta), …]."""
        upsert_add(self.session, counters, ("campaign_id", "dimension", "key"), "value",
                   [{"campaign_id": campaign_id, "dimension": d, "key": k, "value": v} for d, k, v in deltas])

    def last_change(self, campaign_id):
        return self.session.execute(_LAST_CHANGE, {"campaign_id": campaign_id}).scalar()

    def counts(self, campaign_id) -> dict:
        rows = self.session.execute(_COUNTS, {"campaign_id": campaign_id})
        return {(dim, key): (int(v) if v == int(v) else v) for dim, key, v in rows}

    def lead(self, lead_id):
        row = self.session.execute(_GET_LEAD, {"lead_id": lead_id}).mappings().first()
        return dict(row) if row else None

    def add_lead(self, fact) -> bool:
        """Store what reporting knows of a lead; False if it knew the lead already."""
        return insert_ignore(self.session, lead_facts, ("id",), fact) == 1

    def mark_assigned(self, lead_id, at) -> bool:
        """True if the lead was not counted as assigned before."""
        return self.session.execute(_MARK_ASSIGNED, {"lead_id": lead_id, "at": at}).rowcount == 1


class ReportingUnitOfWork(SqlUnitOfWork):
    def start(self):
        self.reports = ReportRepository(self.session)
