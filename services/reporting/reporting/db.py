"""The reporting service's tables: the events it consumed (R6), the projections built from them,
the repository over both, and the unit of work."""
from functools import lru_cache

from sqlalchemy import (Column, DateTime, Index, MetaData, Numeric, String, Table, Text, bindparam, case, delete,
                        func, insert, or_, select, text, update)
from sqlalchemy.dialects import postgresql, sqlite

from crmkit.db import (BigId, SqlUnitOfWork, insert_ignore, insert_many, insert_new, key_chunks,
                       messaging_tables, one_of, update_many)

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
    Index("ix_report_events_occurred_at", "occurred_at"),
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
# Facts a batch reads in one SELECT (one_of) and writes back in one executemany per table (see load_facts).
BATCHED = ("lead", "activity")

# Statements built once and reused: SQLAlchemy then skips rebuilding and re-keying them.
_GET = {name: select(table).where(table.c.id == bindparam("id")) for name, table in FACTS.items()}
# A batch's leads are locked as they are read (PostgreSQL; SQLite's writer holds the database): a
# replica's batch never moves counts from a state another one is changing. In id order: no deadlock.
_GET_MANY = {"lead": select(lead_facts).where(one_of(lead_facts.c.id, "ids")).order_by(lead_facts.c.id).with_for_update(),
             "activity": select(activities).where(one_of(activities.c.id, "ids"))}
_INSERT = {name: insert(table) for name, table in FACTS.items()}
_COUNTS = (select(counters.c.dimension, counters.c.key, counters.c.value)
           .where(counters.c.campaign_id == bindparam("campaign_id")))
_CHILDREN = select(campaigns.c.id).where(campaigns.c.parent_id.in_(bindparam("ids", expanding=True)),
                                         or_(campaigns.c.deleted.is_(None), campaigns.c.deleted == "0"))
_RATES = select(rates.c.valid_from, rates.c.rate).where(rates.c.user_id == bindparam("user_id")).order_by(
    rates.c.valid_from)


@lru_cache(maxsize=None)
def _update_fact(table, columns):
    return update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(c) for c in columns})


_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_NAMED_SQLITE = sqlite.dialect(paramstyle="named")


def _add_value(row, excluded):
    return {"value": row.value + excluded.value}


def _latest_update(row, excluded):
    return {"updated_at": case((or_(row.updated_at.is_(None), row.updated_at < excluded.updated_at),
                                excluded.updated_at), else_=row.updated_at)}


@lru_cache(maxsize=None)
def _upsert(dialect, table, keys, set_):
    """INSERT (keys and the columns set_ sets) … ON CONFLICT (keys) DO UPDATE SET set_(row, excluded),
    built once. SQLAlchemy makes no cache key for ON CONFLICT and would compile it on every call: on
    SQLite it is typed text compiled here once; on PostgreSQL it stays the construct, whose rows
    insertmanyvalues sends in one statement (text would send them one by one)."""
    statement = _DIALECT_INSERT[dialect](table)
    set_ = set_(table.c, statement.excluded)
    statement = statement.on_conflict_do_update(index_elements=list(keys), set_=set_)
    if dialect != "sqlite":
        return statement
    compiled = statement.compile(dialect=_NAMED_SQLITE, column_keys=[*keys, *set_])
    return text(compiled.string).bindparams(*(bindparam(name, type_=bind.type)
                                              for name, bind in compiled.binds.items()))


@lru_cache(maxsize=None)
def _round_trips(dialect, table):
    """(column, to the database, back from it) for the table's times: SQLite hands them back naive.
    The facts held in memory are kept as a read would give them."""
    trips = []
    for column in table.c:
        if isinstance(column.type, DateTime):
            impl = column.type.dialect_impl(dialect)
            bind, result = impl.bind_processor(dialect), impl.result_processor(dialect, None)
            if bind and result:
                trips.append((column.name, bind, result))
    return tuple(trips)


def _number(value):
    return int(value) if value == int(value) else value


class ReportRepository:
    def __init__(self, session):
        self.session = session
        self._facts = {kind: {} for kind in BATCHED}    # id → row as stored, or None: not in the table
        self._stored = {kind: set() for kind in BATCHED}  # ids the table holds
        self._dirty = {kind: {} for kind in BATCHED}      # ids to write, in order

    # -- the event store (R6) ---------------------------------------------------------------------
    def keep_events(self, rows) -> set:
        """Store consumed events [{event_id, type, occurred_at, payload}]; repeats are ignored.
        Returns the ids of those that were new (one INSERT … RETURNING)."""
        if not rows:
            return set()
        return insert_new(self.session, events, ("event_id",), rows, "event_id")

    def stored_events(self, after_seq, limit):
        return self.session.execute(select(events.c.seq, events.c.payload).where(events.c.seq > after_seq)
                                    .order_by(events.c.seq).limit(limit)).all()

    def event_stats(self):
        """(events kept, the latest one's time), by index look-ups: the operators' page and the
        benchmark ask often, and counting a million rows took 0.8 s each time. Kept events are
        never deleted, so the last sequence number is their count (PostgreSQL: a rolled-back
        batch leaves a gap, so it may run a little ahead)."""
        count = self.session.execute(select(func.max(events.c.seq))).scalar() or 0
        return count, self.session.execute(select(func.max(events.c.occurred_at))).scalar()

    def clear_projections(self):
        self.write_facts()
        for table in PROJECTIONS:
            self.session.execute(delete(table))

    # -- facts: one row per campaign, lead, activity, opportunity ----------------------------------
    # Lead and activity facts are read for a whole batch at once (load_facts), held in memory as a
    # read would give them, and written back by write_facts(), which the projector calls when it
    # flushes; the reads below that need those tables write them first.
    def load_facts(self, kind, ids):
        """Read the facts of these ids in one statement (per 500 on SQLite); fact() then answers
        from memory. Ids already held are not read again."""
        held, stored = self._facts[kind], self._stored[kind]
        wanted = sorted({i for i in ids if isinstance(i, str) and i not in held})
        for chunk in key_chunks(self.session, wanted):
            for row in self.session.execute(_GET_MANY[kind], {"ids": chunk}).mappings():
                held[row["id"]] = dict(row)
                stored.add(row["id"])
            for fact_id in chunk:
                held.setdefault(fact_id, None)

    def _held(self, kind, fact_id):
        """The fact's row held in memory (None: not in the table); False when it is not held
        in memory (another kind, or an id that is not text)."""
        if kind not in BATCHED or not isinstance(fact_id, str):
            return False
        held = self._facts[kind]
        if fact_id not in held:
            self.load_facts(kind, [fact_id])
        return held[fact_id]

    def fact(self, kind, fact_id):
        row = self._held(kind, fact_id)
        if row is False:
            row = self.session.execute(_GET[kind], {"id": fact_id}).mappings().first()
        return dict(row) if row else None

    def put_fact(self, kind, values, exists):
        table, fact_id = FACTS[kind], values["id"]
        row = self._held(kind, fact_id)
        if row is False:
            if exists:
                columns = tuple(sorted(k for k in values if k != "id"))
                self.session.execute(_update_fact(table, columns), {**values, "_id": fact_id})
            else:
                self.session.execute(_INSERT[kind], values)
            return
        if exists and row is None:
            return  # an UPDATE of no row
        if not exists:
            row = self._facts[kind][fact_id] = dict.fromkeys(table.c.keys())
        for name, to_db, from_db in _round_trips(self.session.dialect, table):
            value = values.get(name)
            if value is not None and value is not row[name]:  # not the value read
                values = {**values, name: from_db(to_db(value))}
        row.update(values)
        self._dirty[kind][fact_id] = True

    def write_facts(self):
        """Write the facts put since the last call, then forget what is held (the next batch
        reads afresh)."""
        for kind in BATCHED:
            self._write(kind)
            self._facts[kind].clear()
            self._stored[kind].clear()

    def _write(self, kind):
        """The facts of a kind put since it was last written: one INSERT and one UPDATE
        (insert_many, update_many)."""
        table, held, stored, dirty = FACTS[kind], self._facts[kind], self._stored[kind], self._dirty[kind]
        rows = [held[i] for i in dirty]
        insert_many(self.session, table, [row for row in rows if row["id"] not in stored])
        update_many(self.session, table, ("id",), [row for row in rows if row["id"] in stored])
        stored.update(dirty)
        dirty.clear()

    def campaign(self, campaign_id):
        return self.fact("campaign", campaign_id)

    def touch_campaigns(self, times):
        """Each campaign's report changed at its `at` (the event's time), [(campaign_id, at)]: keep
        the latest; create a stub. One statement."""
        if times:
            self._upsert(campaigns, ("id",), _latest_update,
                         [{"id": campaign_id, "updated_at": at} for campaign_id, at in times])

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
            self._upsert(counters, ("campaign_id", "dimension", "key"), _add_value, rows)

    def add_person_counters(self, rows):
        if rows:
            self._upsert(person_counters, ("campaign_id", "user_id", "key"), _add_value, rows)

    def _upsert(self, table, keys, set_, rows):
        self.session.execute(_upsert(self.session.dialect.name, table, keys, set_), rows)

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
        self._write("lead")
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
        self._write("activity")
        query = select(activities.c.id, activities.c.campaign_id, activities.c.worker_id,
                       activities.c.effort_hours, activities.c.occurred_at, activities.c.effort_cost)
        if worker_id is not None:
            query = query.where(activities.c.worker_id == worker_id)
        return self.session.execute(query).all()

    def set_effort_cost(self, activity_id, effort_cost):
        self._write("activity")
        self.session.execute(update(activities).where(activities.c.id == activity_id)
                             .values(effort_cost=effort_cost))
        if self._facts["activity"].get(activity_id):
            self._facts["activity"][activity_id]["effort_cost"] = effort_cost

    # -- hourly rates --------------------------------------------------------------------------------
    def add_rate(self, user_id, valid_from, rate):
        insert_ignore(self.session, rates, ("user_id", "valid_from"),
                      {"user_id": user_id, "valid_from": valid_from, "rate": rate})

    def rates(self, user_id):
        return self.session.execute(_RATES, {"user_id": user_id}).all()


class ReportingUnitOfWork(SqlUnitOfWork):
    def start(self):
        self.reports = ReportRepository(self.session)
