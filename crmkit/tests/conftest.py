"""A real SQLite file with crmkit's own outbox/inbox tables plus one table standing for "the change"."""
from types import SimpleNamespace

import pytest
from sqlalchemy import Column, MetaData, String, Table, select

from crmkit import db


@pytest.fixture
def store(tmp_path):
    metadata = MetaData()
    outbox, inbox = db.messaging_tables(metadata)
    notes = Table("notes", metadata, Column("id", String(32), primary_key=True),
                  Column("text", String(200)))
    engine = db.make_engine(f"sqlite:///{tmp_path / 'crmkit.db'}")
    metadata.create_all(engine)
    sessions = db.session_factory(engine)

    def uow(on_commit=None, exchange="test.events"):
        return db.SqlUnitOfWork(sessions, outbox, inbox, exchange, on_commit=on_commit)

    def rows(table):
        with engine.connect() as conn:
            return conn.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()

    yield SimpleNamespace(engine=engine, outbox=outbox, inbox=inbox, notes=notes, sessions=sessions,
                          uow=uow, rows=rows)
    engine.dispose()
