"""Engines, the outbox and inbox tables every service carries, and the unit of work.

SQLite (the embedded default) gets WAL, a busy timeout and BEGIN IMMEDIATE for
units of work, so two writers never deadlock on a read-to-write upgrade.
PostgreSQL goes through psycopg2, which eventlet's monkey patch makes cooperative.
"""
import json
from functools import lru_cache

import orjson
from sqlalchemy import (BigInteger, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table,
                        Text, bindparam, create_engine, event, func, insert, select, text)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

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


def key_chunks(conn, values):
    """`values` in lists for `one_of`: all at once on PostgreSQL (one array), else chunks()."""
    values = list(values)
    return ([values] if values else []) if conn.dialect.name == "postgresql" else chunks(values)


def text_array(values) -> str:
    """PostgreSQL's text[] literal of these strings, each quoted (so "NULL" stays a string)."""
    return "{" + ",".join('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values) + "}"


class _TextArrayLiteral(TypeDecorator):
    """A list of strings bound as one text[] literal (text_array)."""
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return text_array(value)


class one_of(ColumnElement):  # noqa: N801 - used like a SQL function
    """`column IN :name`, the parameter a list of strings. On PostgreSQL it is
    `column = ANY(CAST(:name AS TEXT[]))` with the list as one array literal: psycopg2 escapes
    one string instead of one bound value per element (SQLAlchemy's expanding IN renders and
    escapes a parameter per value), and no chunking is needed. An import's duplicate look-up of
    2,000 keys took 62 ms (28 ms of client CPU) as expanding INs, 19 ms (6 ms) this way.
    Elsewhere it is the expanding IN."""
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is: SQLite would get `x IN (…) = 1`, which no index serves
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string)]

    def __init__(self, column, name):
        self.column = column
        self.name = name


@compiles(one_of)
def _one_of(element, compiler, **kw):
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(one_of, "postgresql")
def _one_of_postgresql(element, compiler, **kw):
    values = compiler.process(bindparam(element.name, type_=_TextArrayLiteral()), **kw)
    return f"{compiler.process(element.column, **kw)} = ANY(CAST({values} AS TEXT[]))"


def insert_many(conn, table, rows):
    """INSERT the rows (dicts with the same keys) into `table`; Python scalar column defaults
    apply to the columns the rows leave out, as with an executemany.

    On PostgreSQL the rows travel as one JSON document that json_populate_recordset reads. An
    executemany becomes multi-row VALUES lists, which PostgreSQL parsed at about 0.1 ms a row for
    the leads table (50 columns) and SQLAlchemy took as long again to render: 100,000 imported
    leads spent most of their time there (bench/import_bench). On SQLite, the DBAPI's executemany
    with the columns' own bind processors (SQLAlchemy's building of each row's parameters was a
    tenth of an import chunk's CPU); elsewhere, SQLAlchemy's executemany."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        statement, defaults = _json_insert(conn.dialect, table, tuple(rows[0]))
        conn.execute(statement, {"_rows": _json_document(rows), **defaults})
    elif conn.dialect.paramstyle == "qmark":  # SQLite
        sql, keys, defaults, processors = _driver_insert(conn.dialect, table, tuple(rows[0]))
        params = []
        for row in rows:
            values = [row[key] for key in keys] + defaults
            for index, process in processors:
                values[index] = process(values[index])
            params.append(tuple(values))
        conn.exec_driver_sql(sql, params)
    else:
        conn.execute(insert(table), rows)


def insert_new(conn, table, keys, rows, returning) -> set:
    """INSERT the rows whose `keys` are not stored yet (the others are skipped, as is a repeat
    within `rows`); → the `returning` column's values of the rows inserted. An inbox's "which of
    these events are new" in one statement; on PostgreSQL through json_populate_recordset (see
    insert_many)."""
    if not rows:
        return set()
    keys = tuple(keys)
    if conn.dialect.name != "postgresql":
        return set(conn.execute(_insert_new_statement(conn.dialect.name, table, keys, returning), rows).scalars())
    statement, defaults = _json_insert(conn.dialect, table, tuple(rows[0]), keys, returning)
    return set(conn.execute(statement, {"_rows": _json_document(rows), **defaults}).scalars())


@lru_cache(maxsize=None)
def _insert_new_statement(dialect, table, keys, returning):
    return insert_ignore_statement(dialect, table, keys).returning(table.c[returning])


def update_many(conn, table, keys, rows):
    """For each row (dicts with the same keys, one row per key): UPDATE the table row whose
    `keys` columns equal the row's, setting the row's other columns. On PostgreSQL one UPDATE …
    FROM json_populate_recordset: an executemany there is a statement per row (psycopg2's
    execute_batch), each parsed and planned: a third of a 500-lead bulk assignment."""
    if rows:
        _many(conn, "update", table, tuple(keys), rows)


def delete_many(conn, table, keys, rows):
    """For each row (dicts holding the `keys` columns): DELETE the rows whose keys equal it. On
    PostgreSQL one DELETE … USING json_populate_recordset (see update_many)."""
    if rows:
        _many(conn, "delete", table, tuple(keys), rows)


def _many(conn, kind, table, keys, rows):
    statement = _keyed_statement(conn.dialect, kind, table, keys, tuple(rows[0]))
    if conn.dialect.name == "postgresql":
        conn.execute(statement, {"_rows": _json_document(rows)})
    else:
        conn.execute(statement, rows)


@lru_cache(maxsize=None)
def _keyed_statement(dialect, kind, table, keys, columns):
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    changed = [column for column in columns if column not in keys]
    if dialect.name == "postgresql":
        match = " AND ".join(f"{name}.{quote(key)} = r.{quote(key)}" for key in keys)
        source = f"json_populate_recordset(NULL::{name}, CAST(:_rows AS json)) AS r"
        if kind == "update":
            sets = ", ".join(f"{quote(column)} = r.{quote(column)}" for column in changed)
            return text(f"UPDATE {name} SET {sets} FROM {source} WHERE {match}")
        return text(f"DELETE FROM {name} USING {source} WHERE {match}")
    match = " AND ".join(f"{quote(key)} = :{key}" for key in keys)
    if kind == "update":
        sets = ", ".join(f"{quote(column)} = :{column}" for column in changed)
        sql = f"UPDATE {name} SET {sets} WHERE {match}"
    else:
        sql = f"DELETE FROM {name} WHERE {match}"
    used = keys + tuple(changed) if kind == "update" else keys
    return text(sql).bindparams(*[bindparam(column, type_=table.c[column].type) for column in used])


def _as_text(value):
    """A value JSON has no type for, as PostgreSQL reads it from a JSON string: a Decimal (the
    reporting facts' money) as its digits, anything with an isoformat as that."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _json_document(rows) -> str:
    for option in (None, orjson.OPT_NON_STR_KEYS):
        try:  # datetimes as RFC 3339, which PostgreSQL reads
            return orjson.dumps(rows, default=_as_text, option=option).decode()
        except (TypeError, orjson.JSONEncodeError):
            # keys that are not exactly str: SQLAlchemy's column names (quoted_name) in a row copied
            # from a result, which OPT_NON_STR_KEYS writes as text (at half the speed, so not first)
            continue
    return json.dumps(rows, ensure_ascii=False, default=_as_text)  # e.g. an integer beyond 64 bits


def _left_out_defaults(table, keys) -> list:
    """The columns the rows leave out that have a Python scalar default (SQLAlchemy fills those in)."""
    return [column for column in table.columns
            if column.name not in keys and column.default is not None and column.default.is_scalar]


@lru_cache(maxsize=None)
def _driver_insert(dialect, table, keys):
    """(INSERT with positional parameters, the row keys in order, the Python defaults of the
    columns left out, [(position, bind processor)] of the columns that have one)."""
    defaulted = _left_out_defaults(table, keys)
    columns = [table.c[key] for key in keys] + defaulted
    quote = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
           f"({', '.join(quote(column.name) for column in columns)}) VALUES ({', '.join('?' for _ in columns)})")
    processors = [(index, process) for index, process in
                  enumerate(column.type._cached_bind_processor(dialect) for column in columns) if process]
    return sql, keys, [column.default.arg for column in defaulted], processors


@lru_cache(maxsize=None)
def _json_insert(dialect, table, keys, skip_conflicts_on=None, returning=None):
    """(INSERT … SELECT … FROM json_populate_recordset(NULL::table, :_rows), the bound Python
    defaults of the columns left out); a JSON key that is not a column is ignored."""
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    defaults = {f"_d_{column.name}": column.default.arg for column in _left_out_defaults(table, keys)}
    names = list(keys) + [key[3:] for key in defaults]
    values = [f"r.{quote(key)}" for key in keys] + [f":{key}" for key in defaults]
    sql = (f"INSERT INTO {name} ({', '.join(quote(n) for n in names)}) SELECT {', '.join(values)} "
           f"FROM json_populate_recordset(NULL::{name}, CAST(:_rows AS json)) AS r")
    if skip_conflicts_on:
        sql += f" ON CONFLICT ({', '.join(quote(key) for key in skip_conflicts_on)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {quote(returning)}"
    return text(sql), defaults


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
        return insert_new(self.session, self._inbox, ("event_id", "handler"), [
            {"event_id": event_id, "handler": handler, "processed_at": moment} for event_id in event_ids], "event_id")

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
