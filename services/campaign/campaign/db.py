"""The campaign service's tables, repository and unit of work."""
from sqlalchemy import (Column, Date, DateTime, Index, Integer, MetaData, Numeric, String, Table, Text,
                        delete, exists, func, insert, or_, select, text, update)

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

participants = Table(
    "campaign_participants", metadata,
    Column("campaign_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("permission", String(10), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(32)),
    Index("ix_campaign_participants_user", "user_id"),
)

_FIELDS = [c.name for c in campaigns.columns]
TREE_LOCK = 0x43414D50  # "CAMP": one PostgreSQL advisory lock serialises changes to the tree


def _like(value):
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _takes_part(user_id):
    return exists().where(participants.c.campaign_id == campaigns.c.id, participants.c.user_id == user_id)
_EXPENSE_FIELDS = [c.name for c in expenses.columns]


class CampaignRepository:
    def __init__(self, session):
        self.session = session

    def add(self, campaign: Campaign):
        self.session.execute(insert(campaigns).values(**{k: getattr(campaign, k) for k in _FIELDS}))
        self.save_participants(campaign, campaign.owner_id)

    def save(self, campaign: Campaign):
        self.session.execute(update(campaigns).where(campaigns.c.id == campaign.id).values(
            **{k: getattr(campaign, k) for k in _FIELDS if k != "id"}))

    def get(self, campaign_id) -> Campaign | None:
        row = self.session.execute(select(campaigns).where(campaigns.c.id == campaign_id)).mappings().first()
        return self._load([row])[0] if row else None

    def list(self, filters, limit, after):
        query = select(campaigns)
        if not filters.get("include_archived"):
            query = query.where(campaigns.c.archived_at.is_(None))
        for key in ("status", "type", "owner_id", "parent_id"):
            if filters.get(key):
                query = query.where(getattr(campaigns.c, key) == filters[key])
        if filters.get("visible_to") is not None:
            viewer = filters["visible_to"]
            query = query.where(or_(campaigns.c.owner_id == viewer, _takes_part(viewer)))
        if filters.get("participant_id"):
            query = query.where(_takes_part(filters["participant_id"]))
        if filters.get("date_from") or filters.get("date_to"):
            # Campaigns whose dates overlap the range: a missing end runs on, a missing start
            # reaches back; a campaign with no date at all matches no range.
            query = query.where(or_(campaigns.c.start_date.is_not(None), campaigns.c.end_date.is_not(None)))
            if filters.get("date_from"):
                query = query.where(or_(campaigns.c.end_date.is_(None), campaigns.c.end_date >= filters["date_from"]))
            if filters.get("date_to"):
                query = query.where(or_(campaigns.c.start_date.is_(None), campaigns.c.start_date <= filters["date_to"]))
        if filters.get("q"):
            pattern = _like(filters["q"])
            query = query.where(or_(campaigns.c.name.ilike(pattern, escape="\\"),
                                    campaigns.c.description.ilike(pattern, escape="\\")))
        if after:
            query = query.where(campaigns.c.id < after)
        rows = self.session.execute(query.order_by(campaigns.c.id.desc()).limit(limit + 1)).mappings().all()
        return self._load(rows)

    def _load(self, rows):
        found = [Campaign(**row) for row in rows]
        if found:
            by_id = {c.id: c for c in found}
            for row in self.session.execute(select(participants).where(
                    participants.c.campaign_id.in_(list(by_id)))):
                by_id[row.campaign_id].participants[row.user_id] = row.permission
        return found

    def save_participants(self, campaign: Campaign, actor_id):
        """Make the stored participants those of `campaign` (kept rows keep their added_at)."""
        stored = {row.user_id: row.permission for row in self.session.execute(
            select(participants.c.user_id, participants.c.permission).where(
                participants.c.campaign_id == campaign.id))}
        gone = [u for u in stored if u not in campaign.participants]
        if gone:
            self.session.execute(delete(participants).where(
                participants.c.campaign_id == campaign.id, participants.c.user_id.in_(gone)))
        for user_id, permission in campaign.participants.items():
            if user_id not in stored:
                self.session.execute(insert(participants).values(
                    campaign_id=campaign.id, user_id=user_id, permission=permission,
                    added_at=campaign.updated_at, added_by=actor_id))
            elif stored[user_id] != permission:
                self.session.execute(update(participants).where(
                    participants.c.campaign_id == campaign.id, participants.c.user_id == user_id)
                    .values(permission=permission))

    def has_children(self, campaign_id) -> bool:
        return self.session.execute(select(campaigns.c.id).where(
            campaigns.c.parent_id == campaign_id).limit(1)).first() is not None

    def lock_tree(self):
        """Serialise changes to the campaign tree, so two moves cannot close a cycle together.
        SQLite writers are serialised already (BEGIN IMMEDIATE)."""
        if self.session.dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TREE_LOCK})

    def remove(self, campaign_id):
        self.session.execute(delete(participants).where(participants.c.campaign_id == campaign_id))
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
