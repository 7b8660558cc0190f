"""The reporting service's tables: the events it consumed (R6), the projections built from them,
the repository over both, and the unit of work."""
from sqlalchemy import (Column, DateTime, Index, MetaData, Numeric, String, Table, Text, bindparam, case, delete,
                        func, insert, or_, select, update)

from functools import lru_cache

from crmkit.db import BigId, SqlUnitOfWork, insert_ignore, insert_ignore_statement, messaging_tables, upsert_add

metadata = MetaData()
outbox, inbox = messaging_tables(metadata)

# Every event the projections consumed, in arrival order: the rebuild replays them (R6).
events = Table(
    "report_events", metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    Column("occurred_at", DateTime(timezone=True)),
    Column("payload", Text, nullable=False),
)

campaigns = Table(
    "report_campaigns", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200)),
    Column("budget", Numeric(14, 2)),
    Column("expected_revenue", Numeric(14, 2)),
    Column("updated_at", DateTime(timezone=True)),   # the latest event that touched the campaign
    Column("parent_id", String(32), index=True),
    Column("status", String(20)),
    Column("archived", String(1)),
    Column("deleted", String(1)),
    Column("version", DateTime(timezone=True)),      # the campaign's own updated_at (out-of-order guard)
)

# One number per (campaign, dimension, key): ("status", "raw") → 12, ("leads", "total") → 40 …
counters = Table(
    "report_counters", metadata,
    Column("campaign_id", String(32), primary_key=True),
    Column("dimension", String(30), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("value", Numeric(18, 2), nullable=False),
)

# The same per person (R3): responses, conversions, won revenue, effort.
person_counters = Table(
    "report_person_counters", metadata,
    Column("campaign_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("key", String(30), primary_key=True),
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
    Column("owner_id", String(32)),
    Column("pool_id", String(32)),
    Column("assignees", Text),                       # user ids, comma separated
    Column("created_at", DateTime(timezone=True)),
    Column("usable_at", DateTime(timezone=True)),    # first seen usable, working or converted (R4)
    Column("gone", String(10)),                      # "deleted" or "merged": final
)

activities = Table(
    "report_activities", metadata,
    Column("id", String(32), primary_key=True),
    Column("campaign_id", String(32), index=True),
    Column("lead_id", String(32)),
    Column("worker_id", String(32)),
    Column("effort_hours", Numeric(10, 2), nullable=False),
    Column("cost", Numeric(14, 2), nullable=False),
    Column("effort_cost", Numeric(14, 2), nullable=False),
    Column("occurred_at", DateTime(timezone=True)),
)

opportunities = Table(
    "report_opportunities", metadata,
    Column("id", String(32), primary_key=True),
    Column("campaign_id", String(32), index=True),
    Column("lead_id", String(32), index=True),
    Column("owner_id", String(32)),
    Column("status", String(10)),
    Column("amount", Numeric(14, 2)),
    Column("won_amount", Numeric(14, 2)),
    Column("created_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("version", DateTime(timezone=True)),
)

# Hourly rates as they changed: a user's, or the default one (user_id DEFAULT_RATE).
rates = Table(
    "report_rates", metadata,
    Column("user_id", String(32), primary_key=True),
    Column("valid_from", DateTime(timezone=True), primary_key=True),
    Column("rate", Numeric(10, 2)),
)
Index("ix_report_activities_worker_time", activities.c.worker_id, activities.c.occurred_at)

PROJECTIONS = (campaigns, counters, person_counters, lead_facts, activities, opportunities, rates)
FACTS = {"lead": lead_facts, "activity": activities, "opportunity": opportunities, "campaign": campaigns}

# Statements built once and reused: SQLAlchemy then skips rebuilding and re-keying them.
_TOUCH_CAMPAIGN = (update(campaigns).where(campaigns.c.id == bindparam("campaign_id"))
                   .values(updated_at=case((or_(campaigns.c.updated_at.is_(None),
                                                campaigns.c.updated_at < bindparam("at")), bindparam("at")),
                                           else_=campaigns.c.updated_at)))
_INSERT_CAMPAIGN = insert(campaigns)
_GET = {name: select(table).where(table.c.id == bindparam("id")) for name, table in FACTS.items()}
_COUNTS = (select(counters.c.dimension, counters.c.key, counters.c.value)
           .where(counters.c.campaign_id == bindparam("campaign_id")))
_CHILDREN = select(campaigns.c.id).where(campaigns.c.parent_id.in_(bindparam("ids", expanding=True)),
                                         or_(campaigns.c.deleted.is_(None), campaigns.c.deleted == "0"))
_RATES = select(rates.c.valid_from, rates.c.rate).where(rates.c.user_id == bindparam("user_id")).order_by(
    rates.c.valid_from)


@lru_cache(maxsize=None)
def _update_fact(table, columns):
    return update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(c) for c in columns})


def _number(value):
    return int(value) if value == int(value) else value


class ReportRepository:
    def __init__(self, session):
        self.session = session

    # -- the event store (R6) ---------------------------------------------------------------------
    def keep_events(self, rows):
        """Store consumed events [{event_id, type, occurred_at, payload}]; repeats are ignored."""
        if rows:
            self.session.execute(insert_ignore_statement(self.session.dialect.name, events), rows)

    def stored_events(self, after_seq, limit):
        return self.session.execute(select(events.c.seq, events.c.payload).where(events.c.seq > after_seq)
                                    .order_by(events.c.seq).limit(limit)).all()

    def event_stats(self):
        count, last = self.session.execute(select(func.count(), func.max(events.c.occurred_at))
                                           .select_from(events)).one()
        return count, last

    def clear_projections(self):
        for table in PROJECTIONS:
            self.session.execute(delete(table))

    # -- facts: one row per campaign, lead, activity, opportunity ----------------------------------
    def fact(self, kind, fact_id):
        row = self.session.execute(_GET[kind], {"id": fact_id}).mappings().first()
        return dict(row) if row else None

    def put_fact(self, kind, values, exists):
        table = FACTS[kind]
        if exists:
            columns = tuple(sorted(k for k in values if k != "id"))
            self.session.execute(_update_fact(table, columns), {**values, "_id": values["id"]})
        else:
            self.session.execute(insert(table), values)

    def campaign(self, campaign_id):
        return self.fact("campaign", campaign_id)

    def touch_campaign(self, campaign_id, at):
        """The campaign's report changed at `at` (the event's time): keep the latest; create a stub."""
        if not self.session.execute(_TOUCH_CAMPAIGN, {"campaign_id": campaign_id, "at": at}).rowcount:
            self.session.execute(_INSERT_CAMPAIGN, {"id": campaign_id, "updated_at": at})

    def children(self, campaign_ids):
        return [r for r, in self.session.execute(_CHILDREN, {"ids": list(campaign_ids)})] if campaign_ids else []

    def campaign_rows(self):
        return [dict(r) for r in self.session.execute(
            select(campaigns).where(or_(campaigns.c.deleted.is_(None), campaigns.c.deleted == "0"))).mappings()]

    # -- counters ------------------------------------------------------------------------------------
    def add_many(self, campaign_id, deltas):
        """Add to several counters in one statement: [(dimension, key, delta), …]."""
        self.add_counters([{"campaign_id": campaign_id, "dimension": d, "key": k, "value": v}
                           for d, k, v in deltas])

    def add(self, campaign_id, dimension, key, delta):
        self.add_many(campaign_id, [(dimension, key, delta)])

    def add_counters(self, rows):
        if rows:
            upsert_add(self.session, counters, ("campaign_id", "dimension", "key"), "value", rows)

    def add_person_counters(self, rows):
        if rows:
            upsert_add(self.session, person_counters, ("campaign_id", "user_id", "key"), "value", rows)

    def counts(self, campaign_id) -> dict:
        rows = self.session.execute(_COUNTS, {"campaign_id": campaign_id})
        return {(dim, key): _number(v) for dim, key, v in rows}

    def counts_of(self, campaign_ids=None) -> dict:
        """{campaign_id: {(dimension, key): n}} for the given campaigns, or all."""
        query = select(counters)
        if campaign_ids is not None:
            query = query.where(counters.c.campaign_id.in_(list(campaign_ids)))
        result = {}
        for row in self.session.execute(query):
            result.setdefault(row.campaign_id, {})[(row.dimension, row.key)] = _number(row.value)
        return result

    def person_counts(self, campaign_id=None):
        query = select(person_counters.c.user_id, person_counters.c.key, func.sum(person_counters.c.value))
        if campaign_id:
            query = query.where(person_counters.c.campaign_id == campaign_id)
        return self.session.execute(query.group_by(person_counters.c.user_id, person_counters.c.key)).all()

    # -- leads, activities, opportunities for the read models ----------------------------------------
    def leads_of(self, campaign_id=None):
        query = select(lead_facts.c.owner_id, lead_facts.c.pool_id, lead_facts.c.assignees,
                       lead_facts.c.created_at, lead_facts.c.usable_at, lead_facts.c.id).where(
            lead_facts.c.gone.is_(None), lead_facts.c.campaign_id.is_not(None))
        if campaign_id:
            query = query.where(lead_facts.c.campaign_id == campaign_id)
        return self.session.execute(query).all()

    def opportunity_times(self, campaign_id=None):
        """Per lead: its first opportunity's creation and its first win (R4)."""
        won = func.min(case((opportunities.c.status == "won", opportunities.c.closed_at)))
        query = select(opportunities.c.lead_id, func.min(opportunities.c.created_at), won)
        if campaign_id:
            query = query.where(opportunities.c.campaign_id == campaign_id)
        return {lead_id: (created, won_at) for lead_id, created, won_at
                in self.session.execute(query.group_by(opportunities.c.lead_id))}

    def activities_of(self, worker_id=None):
        query = select(activities.c.id, activities.c.campaign_id, activities.c.worker_id,
                       activities.c.effort_hours, activities.c.occurred_at, activities.c.effort_cost)
        if worker_id is not None:
            query = query.where(activities.c.worker_id == worker_id)
        return self.session.execute(query).all()

    def set_effort_cost(self, activity_id, effort_cost):
        self.session.execute(update(activities).where(activities.c.id == activity_id)
                             .values(effort_cost=effort_cost))

    # -- hourly rates --------------------------------------------------------------------------------
    def add_rate(self, user_id, valid_from, rate):
        insert_ignore(self.session, rates, ("user_id", "valid_from"),
                      {"user_id": user_id, "valid_from": valid_from, "rate": rate})

    def rates(self, user_id):
        return self.session.execute(_RATES, {"user_id": user_id}).all()


class ReportingUnitOfWork(SqlUnitOfWork):
    def start(self):
        self.reports = ReportRepository(self.session)
