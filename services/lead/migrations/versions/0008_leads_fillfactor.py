"""PostgreSQL: leave room in the leads table's pages so an update is HOT (L13, issue 6)

A lead is updated soon after it is written (assigned, claimed, its status moved). With full pages
every such update wrote a new row version elsewhere and a new entry in each of the table's indexes,
the pg_trgm GIN index among them: importing 100,000 leads showed 27,581 updates of which 22 were
HOT, and the lead database's backends CPU-bound. With 15 % of each page free (and the page pruned
of dead versions as it fills), updates of columns no index covers stay on the page and touch no index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 22:20:00
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

FILLFACTOR = 85


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE leads SET (fillfactor = {FILLFACTOR})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE leads RESET (fillfactor)")
