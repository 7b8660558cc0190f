"""SQLite: the lead repository writes the trigram search entries of new leads itself, a statement
per batch; the indexes of columns most leads leave empty hold the leads that have a value (L13,
issue 6)

The per-row AFTER INSERT trigger into the FTS5 table halved the rate of a batched insert: 4,826
rows/s with it, 7,734 with one INSERT … SELECT per 2,000-row chunk (bench/import_bench's rows).
The update and delete triggers stay.

pool_id, claimed_by and phone_key are NULL for most leads (no pool, not claimed, no landline), and
every query of them asks for a value (pool_id = ?, claimed_by = ? or IS NOT NULL, phone_key IN …),
which a partial index WHERE … IS NOT NULL serves on both databases. Indexing the NULLs only cost
each insert: 7,041 → 8,393 rows/s for the benchmark's rows (no pool, no landline).

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

PARTIAL_INDEXES = {"ix_leads_pool_newest": ("pool_id", "id"), "ix_leads_claimed_by": ("claimed_by",),
                   "ix_leads_phone_key": ("phone_key",)}
SEARCH_INSERT_TRIGGER = (
    "CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN "
    "INSERT INTO lead_search(rowid, search_text) VALUES (new.rowid, new.search_text); END")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS leads_search_insert")
    for name, columns in PARTIAL_INDEXES.items():
        where = sa.text(f"{columns[0]} IS NOT NULL")
        op.drop_index(name, table_name="leads")
        op.create_index(name, "leads", list(columns), sqlite_where=where, postgresql_where=where)


def downgrade():
    for name, columns in PARTIAL_INDEXES.items():
        op.drop_index(name, table_name="leads")
        op.create_index(name, "leads", list(columns))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SEARCH_INSERT_TRIGGER)
        op.execute("INSERT INTO lead_search(lead_search) VALUES ('rebuild')")
