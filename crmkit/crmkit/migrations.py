"""Alembic per service, run programmatically (no alembic.ini): `upgrade(service, url, script_dir)`.

Concurrent replicas starting together are serialised: PostgreSQL by an advisory lock,
SQLite by its write lock (BEGIN IMMEDIATE in env.py's transaction).
"""
import zlib

import sqlalchemy as sa
from alembic import command
from alembic.config import Config


def config(script_location: str, url: str, version_table: str = "alembic_version") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["version_table"] = version_table
    return cfg


def upgrade(service: str, url: str, script_location: str):
    cfg = config(script_location, url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": zlib.crc32(service.encode())})
                conn.commit()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": zlib.crc32(service.encode())})
                conn.commit()
    finally:
        engine.dispose()


def run_env(context, target_metadata=None):
    """Body of every service's migrations/env.py."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.connect() as conn:
            _run(context, conn, target_metadata)
        engine.dispose()
    else:
        _run(context, connection, target_metadata)


def _run(context, connection, target_metadata):
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
