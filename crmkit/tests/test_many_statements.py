"""crmkit.db.insert_many, update_many, delete_many: what an executemany would do, on SQLite and on
PostgreSQL (one json_populate_recordset statement there; issue 6)."""
import os
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import (BigInteger, Boolean, Column, DateTime, Integer, MetaData, Numeric, String, Table, Text,
                        insert, select)

from crmkit import db
from crmkit.db import BigId, delete_many, insert_many, insert_new, key_chunks, make_engine, one_of, update_many

PG_URL = os.environ.get("CRM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
AWKWARD = ['上海 "车展" 张三', "back\\slash", "tab\there", "line\nbreak\r\n", "it's", "{\"json\": [1, 2]}",
           "😀 emoji", "", "NULL", "\\N", "%(x)s :name ::text"]


def _table(name):
    metadata = MetaData()
    return metadata, Table(
        name, metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("name", String(200)),
        Column("note", Text),
        Column("count", Integer),
        Column("big", BigInteger),
        Column("flag", Boolean),
        Column("at", DateTime(timezone=True)),
        Column("tags", Text, nullable=False, default="[]"),
        Column("score", Integer, nullable=False, default=0),
        Column("amount", Numeric(14, 2)),
    )


def _rows():
    moment = datetime(2026, 11, 27, 23, 59, 1, 123456, tzinfo=timezone.utc)
    return [{"name": text, "note": text * 3, "count": n - 5, "big": 2 ** 62 + n, "flag": n % 2 == 0,
             "at": moment + timedelta(hours=n), "score": n,
             "amount": Decimal(f"{n * 1000}.{n:02d}") - 3}
            for n, text in enumerate(AWKWARD)] + [
        {"name": None, "note": None, "count": None, "big": None, "flag": None, "at": None, "score": 7,
         "amount": None}]


def _stored(conn, table):
    rows = conn.execute(select(table).order_by(table.c.id)).mappings().all()
    return [{**row, "id": None, "at": row["at"] and row["at"].astimezone(timezone.utc)} for row in rows]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
        yield engine
        engine.dispose()
        return
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        psycopg2.connect(PG_URL, connect_timeout=3).close()
    except psycopg2.OperationalError:
        pytest.skip("needs PostgreSQL at CRM_TEST_PG_URL")
    engine = make_engine(PG_URL)
    yield engine
    engine.dispose()


@pytest.fixture
def new_table(engine):
    """A factory of fresh tables (as _table makes them) in the engine's database, dropped after."""
    made = []

    def make(prefix):
        metadata, table = _table(f"{prefix}_{uuid.uuid4().hex[:8]}")
        metadata.create_all(engine)
        made.append(metadata)
        return table
    yield make
    for metadata in made:
        metadata.drop_all(engine)


def _statements(engine, verb):
    """The statements starting with `verb` the engine sends from now on (a list that fills)."""
    from sqlalchemy import event

    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *rest: statement.startswith(verb) and statements.append(statement))
    return statements


def _one_statement_on_postgresql(engine, statements):
    if engine.dialect.name == "postgresql":
        assert len(statements) == 1 and "json_populate_recordset" in statements[0], statements


def test_insert_many_stores_what_an_executemany_stores(engine, new_table):
    by_json, by_executemany = new_table("t_many"), new_table("t_exec")
    statements = _statements(engine, "INSERT")
    with engine.begin() as conn:
        insert_many(conn, by_json, _rows() * 50)
    _one_statement_on_postgresql(engine, statements)
    with engine.begin() as conn:
        conn.execute(insert(by_executemany), _rows() * 50)
    with engine.connect() as conn:
        stored, expected = _stored(conn, by_json), _stored(conn, by_executemany)
    assert stored == expected
    assert [row["name"] for row in stored[:len(AWKWARD)]] == AWKWARD  # nothing escaped twice
    assert {row["tags"] for row in stored} == {"[]"}  # the Python default of a column left out
    assert stored[0]["at"] == datetime(2026, 11, 27, 23, 59, 1, 123456, tzinfo=timezone.utc)
    assert [row["amount"] for row in stored[:3]] == [Decimal("-3.00"), Decimal("997.01"), Decimal("1997.02")]


def test_decimals_go_into_the_json_document_without_the_slow_encoder(monkeypatch):
    """Reporting's facts hold money as Decimal: orjson writes it (as the digits PostgreSQL reads),
    the standard library's encoder (a tenth of reporting's CPU in an import) is not used."""
    def refuse(*args, **kwargs):
        raise AssertionError("the standard library's encoder ran")
    monkeypatch.setattr(db.json, "dumps", refuse)
    at = datetime(2026, 12, 4, 1, 2, 3, tzinfo=timezone.utc)
    assert db._json_document([{"amount": Decimal("12.50"), "at": at, "n": None}]) == \
        '[{"amount":"12.50","at":"2026-12-04T01:02:03+00:00","n":null}]'


def test_rows_read_from_the_database_go_into_the_json_document_without_the_slow_encoder(monkeypatch):
    """A row copied from a result (dict(row)) has SQLAlchemy's column names as keys, a str subclass
    (quoted_name) that orjson refuses by default: reporting's facts fell back to the standard
    library's encoder for every batch (7 % of its CPU in an import)."""
    from sqlalchemy.sql.elements import quoted_name

    def refuse(*args, **kwargs):
        raise AssertionError("the standard library's encoder ran")
    monkeypatch.setattr(db.json, "dumps", refuse)
    row = {quoted_name("id", None): "L1", quoted_name("city", None): "上海", quoted_name("total", None): Decimal("3")}
    assert db._json_document([row]) == '[{"id":"L1","city":"上海","total":"3"}]'


def test_insert_many_of_nothing_does_nothing(engine, new_table):
    table = new_table("t_none")
    with engine.begin() as conn:
        insert_many(conn, table, [])
        assert conn.execute(select(table)).all() == []


def test_update_many_changes_the_rows_named_by_their_keys_only(engine, new_table):
    table = new_table("t_upd")
    with engine.begin() as conn:
        insert_many(conn, table, _rows())
        ids = conn.execute(select(table.c.id).order_by(table.c.id)).scalars().all()
    later = datetime(2027, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    statements = _statements(engine, "UPDATE")
    with engine.begin() as conn:
        update_many(conn, table, ("id",), [{"id": ids[1], "name": "改了 'x'", "at": later},
                                           {"id": ids[3], "name": None, "at": None},
                                           {"id": 10 ** 6, "name": "nobody", "at": later}])
    _one_statement_on_postgresql(engine, statements)
    with engine.connect() as conn:
        stored = conn.execute(select(table).order_by(table.c.id)).mappings().all()
    assert len(stored) == len(_rows())
    assert (stored[1]["name"], stored[1]["at"].astimezone(timezone.utc)) == ("改了 'x'", later)
    assert (stored[3]["name"], stored[3]["at"]) == (None, None)
    assert [row["name"] for n, row in enumerate(stored) if n not in (1, 3)] == \
        [row["name"] for n, row in enumerate(_rows()) if n not in (1, 3)]
    assert stored[1]["count"] == _rows()[1]["count"]  # columns the rows leave out stay


def test_delete_many_deletes_the_rows_matching_every_key(engine, new_table):
    table = new_table("t_del")
    with engine.begin() as conn:
        insert_many(conn, table, _rows())
    statements = _statements(engine, "DELETE")
    with engine.begin() as conn:
        delete_many(conn, table, ("name", "count"), [
            {"name": AWKWARD[0], "count": -5},      # both keys match: gone
            {"name": AWKWARD[2], "count": 99},      # one key only: stays
            {"name": AWKWARD[4], "count": -1}])     # both: gone
    _one_statement_on_postgresql(engine, statements)
    with engine.connect() as conn:
        names = conn.execute(select(table.c.name).order_by(table.c.id)).scalars().all()
    assert names == [AWKWARD[n] for n in range(len(AWKWARD)) if n not in (0, 4)] + [None]


def test_insert_new_stores_the_new_keys_once_and_returns_them(engine):
    metadata = MetaData()
    table = Table(f"t_new_{uuid.uuid4().hex[:8]}", metadata,
                  Column("event_id", String(32), primary_key=True), Column("handler", String(50), primary_key=True),
                  Column("at", DateTime(timezone=True), nullable=False))
    metadata.create_all(engine)
    moment = datetime(2026, 11, 28, tzinfo=timezone.utc)
    keys = ("event_id", "handler")
    try:
        with engine.begin() as conn:
            assert insert_new(conn, table, keys, [{"event_id": "e1", "handler": "h", "at": moment}], "event_id") == {"e1"}
        statements = _statements(engine, "INSERT")
        with engine.begin() as conn:
            fresh = insert_new(conn, table, keys, [
                {"event_id": "e1", "handler": "h", "at": moment},      # stored before
                {"event_id": "e2", "handler": "h", "at": moment},
                {"event_id": "e1", "handler": "other", "at": moment},  # another handler's: new
                {"event_id": "e2", "handler": "h", "at": moment}],     # a repeat within the rows
                "event_id")
            assert insert_new(conn, table, keys, [], "event_id") == set()
        assert fresh == {"e1", "e2"}
        _one_statement_on_postgresql(engine, statements)
        with engine.connect() as conn:
            assert sorted(conn.execute(select(table.c.event_id, table.c.handler)).all()) == [
                ("e1", "h"), ("e1", "other"), ("e2", "h")]
    finally:
        metadata.drop_all(engine)


def test_one_of_finds_the_rows_whose_value_is_in_the_list_however_awkward(engine, new_table):
    """one_of: the expanding IN on SQLite; on PostgreSQL one text[] literal, every value quoted
    (NULL, braces, quotes, backslashes, commas, Chinese) and one parameter for any number of them."""
    table = new_table("t_one_of")
    with engine.begin() as conn:
        insert_many(conn, table, [{"name": name, "score": n} for n, name in enumerate(AWKWARD + ["a,b", "{x}", " pad "])])
    statement = select(table.c.score).where(one_of(table.c.name, "names")).order_by(table.c.score)
    sent = _statements(engine, "SELECT")
    wanted = [AWKWARD[0], "NULL", "\\N", "back\\slash", "{x}", "a,b", " pad ", "not stored", "😀 emoji"]
    with engine.connect() as conn:
        found = conn.execute(statement, {"names": wanted}).scalars().all()
        assert conn.execute(statement, {"names": ["nothing"]}).scalars().all() == []
        many = [f"key {n}" for n in range(3000)] + ["it's"]
        assert conn.execute(statement, {"names": many}).scalars().all() == [AWKWARD.index("it's")]
    assert [AWKWARD[n] if n < len(AWKWARD) else ["a,b", "{x}", " pad "][n - len(AWKWARD)] for n in found] == [
        name for name in AWKWARD + ["a,b", "{x}", " pad "] if name in wanted]
    if engine.dialect.name == "postgresql":
        assert all("= ANY(CAST(" in s and "IN" not in s.split("WHERE")[1] for s in sent), sent
    else:  # a plain IN, which an index serves: not `(name IN (…)) = 1` (a Boolean compared with 1)
        assert sent and all(" IN (" in s and "= 1" not in s for s in sent), sent
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE INDEX ix_{table.name} ON {table.name} (name)")
            plan = " ".join(str(row) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sent[1], ("nothing",)))
        assert f"USING INDEX ix_{table.name}" in plan, plan
    with engine.connect() as conn:
        assert len(key_chunks(conn, many)) == (1 if engine.dialect.name == "postgresql" else 7)
