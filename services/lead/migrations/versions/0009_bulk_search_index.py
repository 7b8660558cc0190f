"""SQLite: the lead repository writes the trigram search entries of new leads itself, a statement
per batch; the claimed_by index holds claimed leads only (L13, issue 6)

The per-row AFTER INSERT trigger into the FTS5 table halved the rate of a batched insert: 4,826
rows/s with it, 7,734 with one INSERT … SELECT per 2,000-row chunk (bench/import_bench's rows).
The update and delete triggers stay. A lead is claimed only from a pool: the index of every
other lead's NULL cost each insert and served no query (both ask for a person's claims or for
claimed leads), so it becomes partial.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 00:20:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CLAIMED = sa.text("claimed_by IS NOT NULL")
SEARCH_INSERT_TRIGGER = (
    "CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN "
    "INSERT INTO lead_search(rowid, search_text) VALUES (new.rowid, new.search_text); END")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS leads_search_insert")
    op.drop_index("ix_leads_claimed_by", table_name="leads")
    op.create_index("ix_leads_claimed_by", "leads", ["claimed_by"], sqlite_where=CLAIMED, postgresql_where=CLAIMED)


def downgrade():
    op.drop_index("ix_leads_claimed_by", table_name="leads")
    op.create_index("ix_leads_claimed_by", "leads", ["claimed_by"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SEARCH_INSERT_TRIGGER)
        op.execute("INSERT INTO lead_search(lead_search) VALUES ('rebuild')")
