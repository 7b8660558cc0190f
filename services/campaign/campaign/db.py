"""The campaign service's tables, repository and unit of work."""
from sqlalchemy import (Column, Date, DateTime, Index, Integer, MetaData, Numeric, String, Table, Text,
                        delete, func, insert, select, update)

from crmkit.db import SqlUnitOfWork, messaging_tables

from .model import Campaign, Expense

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

expenses = Table(
    "expenses", metadata,
    Column("id", String(32), primary_key=True),
    Column("campaign_id", String(32), nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("category", String(100), nullable=False),
    Column("spent_on", Date),
    Column("note", Text),
    Column("lead_id", String(32)),
    Column("created_by", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
    Column("removed_by", String(32)),
    Index("ix_expenses_campaign", "campaign_id", "id"),
)

_FIELDS = [c.name for c in campaigns.columns]
_EXPENSE_FIELDS = [c.name for c in expenses.columns]


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


    def remove(self, campaign_id):
        self.session.execute(delete(campaigns).where(campaigns.c.id == campaign_id))


class ExpenseRepository:
    def __init__(self, session):
        self.session = session

    def add(self, expense: Expense):
        self.session.execute(insert(expenses).values(**{k: getattr(expense, k) for k in _EXPENSE_FIELDS}))

    def save(self, expense: Expense):
        self.session.execute(update(expenses).where(expenses.c.id == expense.id).values(
            removed_at=expense.removed_at, removed_by=expense.removed_by))

    def get(self, campaign_id, expense_id) -> Expense | None:
        row = self.session.execute(select(expenses).where(
            expenses.c.id == expense_id, expenses.c.campaign_id == campaign_id)).mappings().first()
        return Expense(**row) if row else None

    def list(self, campaign_id, limit, after, include_removed=False):
        query = select(expenses).where(expenses.c.campaign_id == campaign_id)
        if not include_removed:
            query = query.where(expenses.c.removed_at.is_(None))
        if after:
            query = query.where(expenses.c.id > after)
        return [Expense(**r) for r in self.session.execute(query.order_by(expenses.c.id).limit(limit + 1)).mappings()]

    def count(self, campaign_id) -> int:
        """Expenses on record, removed ones included: they are spending that happened."""
        return self.session.execute(select(func.count()).select_from(expenses).where(
            expenses.c.campaign_id == campaign_id)).scalar_one()


class CampaignUnitOfWork(SqlUnitOfWork):
    def start(self):
        self.campaigns = CampaignRepository(self.session)
        self.expenses = ExpenseRepository(self.session)
