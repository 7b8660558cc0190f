"""The reporting service's projection tables and unit of work."""
from sqlalchemy import (Column, DateTime, MetaData, Numeric, String, Table, insert, select, update)

from crmkit.db import SqlUnitOfWork, messaging_tables, upsert_add

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
        done = self.session.execute(update(campaigns).where(campaigns.c.id == campaign_id)
                                    .values(updated_at=at)).rowcount
        if not done:
            self.session.execute(insert(campaigns).values(id=campaign_id, updated_at=at))

    def campaign(self, campaign_id):
        row = self.session.execute(select(campaigns).where(campaigns.c.id == campaign_id)).mappings().first()
        return dict(row) if row else None

    def add(self, campaign_id, dimension, key, delta):
        upsert_add(self.session, counters, {"campaign_id": campaign_id, "dimension": dimension, "key": key},
                   "value", delta)

    def counts(self, campaign_id) -> dict:
        rows = self.session.execute(select(counters.c.dimension, counters.c.key, counters.c.value)
                                    .where(counters.c.campaign_id == campaign_id))
        return {(dim, key): (int(v) if v == int(v) else v) for dim, key, v in rows}

    def lead(self, lead_id):
        row = self.session.execute(select(lead_facts).where(lead_facts.c.id == lead_id)).mappings().first()
        return dict(row) if row else None

    def put_lead(self, fact):
        done = self.session.execute(update(lead_facts).where(lead_facts.c.id == fact["id"])
                                    .values(**{k: v for k, v in fact.items() if k != "id"})).rowcount
        if not done:
            self.session.execute(insert(lead_facts).values(**fact))


class ReportingUnitOfWork(SqlUnitOfWork):
    def start(self):
        self.reports = ReportRepository(self.session)
