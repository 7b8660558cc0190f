"""kept events indexed by their time, so the operators' "latest event" is a look-up, not a scan (P4)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:20:00
"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_report_events_occurred_at', 'report_events', ['occurred_at'])


def downgrade():
    op.drop_index('ix_report_events_occurred_at', table_name='report_events')
