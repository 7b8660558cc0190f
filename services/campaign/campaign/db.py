"""The campaign service's tables, repository and unit of work."""
from sqlalchemy import (Column, Date, DateTime, Integer, MetaData, Numeric, String, Table, Text,
                        insert, select, update)

from crmkit.db import SqlUnitOfWork, messaging_tables

from .model import Campaign

metadata = MetaData()
outbox, inbox = messaging_tables(metadata)

campaigns = Table(
    "campaigns", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("type", String(30), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("budget", Numeric(14, 2)),
    Column("expected_revenue", Numeric(14, 2)),
    Column("expected_leads", Integer),
    Column("currency", String(3), nullable=False),
    Column("parent_id", String(32), index=True),
    Column("owner_id", String(32), index=True),
    Column("description", Text),
    Column("archived_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

_FIELDS = [c.name for c in campaigns.columns]


class CampaignRepository:
    def __init__(self, session):
        self.session = session

    def add(self, campaign: Campaign):
        self.session.execute(insert(campaigns).values(**{k: getattr(campaign, k) for k in _FIELDS}))

    def save(self, campaign: Campaign):
        self.session.execute(update(campaigns).where(campaigns.c.id == campaign.id).values(
            **{k: getattr(campaign, k) for k in _FIELDS if k != "id"}))

    def get(self, campaign_id) -> Campaign | None:
        row = self.session.execute(select(campaigns).where(campaigns.c.id == campaign_id)).mappings().first()
        return Campaign(**row) if row else None

    def list(self, filters, limit, after):
        query = select(campaigns)
        if not filters.get("include_archived"):
            query = query.where(campaigns.c.archived_at.is_(None))
        for key in ("status", "type", "owner_id", "parent_id"):
            if filters.get(key):
                query = query.where(getattr(campaigns.c, key) == filters[key])
        if filters.get("q"):
            query = query.where(campaigns.c.name.ilike(f"%{filters['q']}%"))
        if after:
            query = query.where(campaigns.c.id < after)
        rows = self.session.execute(query.order_by(campaigns.c.id.desc()).limit(limit + 1)).mappings()
        return [Campaign(**row) for row in rows]


class CampaignUnitOfWork(SqlUnitOfWork):
    def start(self):
        self.campaigns = CampaignRepository(self.session)
