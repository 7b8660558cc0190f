"""Engines, the outbox and inbox tables every service carries, and the unit of work.

SQLite (the embedded default) gets WAL, a busy timeout and BEGIN IMMEDIATE for
units of work, so two writers never deadlock on a read-to-write upgrade.
PostgreSQL goes through psycopg2, which eventlet's monkey patch makes cooperative.
"""
from functools import lru_cache

from sqlalchemy import (BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table,
                        Text, bindparam, create_engine, event, func, insert, select)
from sqlalchemy.exc import IntegrityError

from . import envelope

BigId = BigInteger().with_variant(Integer, "sqlite")


def make_engine(url: str, pool_size: int = 10):
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size, max_overflow=20, pool_pre_ping=False,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            mode = conn.get_execution_options().get("sqlite_begin", "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    # values_plus_batch: an executemany UPDATE or DELETE goes in pages (psycopg2's execute_batch)
    # instead of a round trip per row; INSERTs were batched already (insertmanyvalues)
    options = {"executemany_mode": "values_plus_batch"} if url.startswith("postgresql") else {}
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, **options)


def chunks(values, size=500):
    """`values` in lists of at most `size`: an IN (…) per list stays within every driver's limits."""
    values = list(values)
    return [values[i:i + size] for i in range(0, len(values), size)]


def writer(engine):
    """The engine units of work use: on SQLite it takes the write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine


def messaging_tables(metadata: MetaData):
    outbox = Table(
        "outbox", metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(32), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("exchange", String(100), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True)),
        Column("claimed_until", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
    )
    Index("ix_outbox_unsent", outbox.c.id, sqlite_where=outbox.c.sent_at.is_(None),
          postgresql_where=outbox.c.sent_at.is_(None))
    inbox = Table(
        "inbox", metadata,
        Column("event_id", String(64), primary_key=True),
        Column("handler", String(100), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    return outbox, inbox


@lru_cache(maxsize=None)
def _inbox_statements(inbox):
    """Built once: SQLAlchemy memoises a statement object's cache key, so reusing the object
    skips rebuilding and re-keying it on every call (a third of a handler's CPU)."""
    seen = select(inbox.c.event_id).where(inbox.c.event_id == bindparam("event_id"),
                                          inbox.c.handler == bindparam("handler"))
    return seen, insert(inbox)


@lru_cache(maxsize=None)
def _inbox_insert_returning(dialect, inbox):
    return insert_ignore_statement(dialect, inbox, ("event_id", "handler")).returning(inbox.c.event_id)


@lru_cache(maxsize=None)
def _outbox_insert(outbox):
    return insert(outbox)


class AlreadyProcessed(Exception):
    """The inbox already holds this (event_id, handler): the effect happened once before."""


class SqlUnitOfWork:
    """One transaction: the change, its outbox rows and its inbox rows commit together.

    Services subclass it and add repositories in `start()`. Repositories never commit.
    """

    def __init__(self, session_factory, outbox, inbox, exchange, on_commit=None, pack_max=500):
        self._session_factory = session_factory
        self._pack_max = pack_max
        self._pack = False
        self._outbox = outbox
        self._inbox = inbox
        self._exchange = exchange
        self._on_commit = on_commit
        self.session = None
        self.events = []

    def start(self):
        """Hook for subclasses: bind repositories to self.session."""

    def __enter__(self):
        self.session = self._session_factory()
        self.events = []
        self._pack = False
        self.start()
        return self

    def __exit__(self, *exc_info):
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def emit(self, event_type, data, ctx, version=1):
        event = envelope.new_event(
            event_type, data, actor_id=ctx.user_id, correlation_id=ctx.correlation_id,
            causation_id=ctx.causation_id, version=version)
        self.events.append(event)
        return event

    def pack_events(self):
        """This transaction is a bulk operation: publish its events packed (envelope.pack), a
        message per `pack_max` events instead of one each."""
        self._pack = True

    def already_processed(self, event_id, handler) -> bool:
        seen, _ = _inbox_statements(self._inbox)
        return self.session.execute(seen, {"event_id": event_id, "handler": handler}).first() is not None

    def mark_processed(self, event_id, handler):
        """Record the event as handled; a concurrent duplicate raises AlreadyProcessed."""
        try:
            self.session.execute(_inbox_statements(self._inbox)[1], {
                "event_id": event_id, "handler": handler, "processed_at": envelope.now()})
        except IntegrityError as exc:
            self.rollback()
            raise AlreadyProcessed() from exc

    def first_time(self, event_id, handler) -> bool:
        """Record (event_id, handler) in the inbox if it is not there; True if it was new.

        For batches: unlike mark_processed, a repeat does not fail the transaction.
        """
        return bool(self.first_times([event_id], handler))

    def first_times(self, event_ids, handler) -> set:
        """first_time for many events in one statement: the ids that were new."""
        if not event_ids:
            return set()
        moment = envelope.now()
        statement = _inbox_insert_returning(self.session.dialect.name, self._inbox)
        return set(self.session.execute(statement, [
            {"event_id": event_id, "handler": handler, "processed_at": moment} for event_id in event_ids]).scalars())

    def commit(self):
        events, self.events = self.events, []
        rows = []
        if events:
            if self._pack:
                events = envelope.pack(events, self._pack_max)
            moment = envelope.now()
            rows = [{"event_id": e["event_id"], "event_type": e["type"], "exchange": self._exchange,
                     "payload": envelope.dumps(e), "created_at": moment} for e in events]
            self.session.execute(_outbox_insert(self._outbox), rows)
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            if "inbox" in str(exc.orig).lower():
                raise AlreadyProcessed() from exc
            raise
        if rows and self._on_commit is not None:
            self._on_commit(rows)  # the outbox rows, serialised once

    def rollback(self):
        self.events = []
        self.session.rollback()


def session_factory(engine):
    """Units of work run on a plain Connection (Core): the ORM Session's bookkeeping
    cost a fifth of the CPU and bought nothing here."""
    return writer(engine).connect


def outbox_pending(engine, outbox) -> dict:
    """How many events wait to be published, and since when (event lag, P4)."""
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(outbox)
                             .where(outbox.c.sent_at.is_(None))).scalar_one()
        oldest = conn.execute(select(outbox.c.created_at).where(outbox.c.sent_at.is_(None))
                              .order_by(outbox.c.id).limit(1)).scalar()
    return {"pending": count, "oldest": envelope.iso(oldest)}


def _dialect_insert(dialect):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


@lru_cache(maxsize=None)
def insert_ignore_statement(dialect, table, keys=None):
    """INSERT that skips a row whose key exists, built once. On SQLite it is INSERT OR IGNORE,
    which SQLAlchemy caches (its on_conflict_do_nothing form has no cache key there and was
    compiled again on every call: thousands a second on the inbox path)."""
    if dialect == "sqlite":
        return insert(table).prefix_with("OR IGNORE")
    return _dialect_insert(dialect)(table).on_conflict_do_nothing(index_elements=list(keys) if keys else None)


def insert_ignore(conn, table, keys: tuple, row: dict) -> int:
    """INSERT the row unless its key exists; returns how many rows were inserted (0 or 1)."""
    return conn.execute(insert_ignore_statement(conn.dialect.name, table, tuple(keys)), row).rowcount
