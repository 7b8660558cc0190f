"""PostgreSQL: lead pages are filled half, so that each imported lead's first updates stay HOT
(L13, issue 6)

0008 left 15 % of each page free. A page of imported leads then had room for about two new row
versions: when a rule assigned the leads (assign_leads touches updated_at, which no index covers),
a quarter of the updates stayed on their page (4,621 of 19,701) and every other one wrote a new
entry into each of the table's nine indexes, the pg_trgm GIN index among them: 41 µs a lead. With
half of each page free, all 19,701 stayed on their page: 10 µs a lead. A lead is updated several
times in its life (assigned, claimed, worked), so the room is reused as the page is pruned of dead
versions; the cost is a heap about 1.7 times as large. Pages written before this keep their fill
until the table is rewritten (VACUUM FULL or pg_repack).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 21:30:00
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FILLFACTOR = 50


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE leads SET (fillfactor = {FILLFACTOR})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE leads SET (fillfactor = 85)")
