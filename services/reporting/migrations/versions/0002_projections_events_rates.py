"""projections events rates

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 15:24:44.869028
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_activities',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.String(length=32), nullable=True),
    sa.Column('lead_id', sa.String(length=32), nullable=True),
    sa.Column('worker_id', sa.String(length=32), nullable=True),
    sa.Column('effort_hours', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('cost', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('effort_cost', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_activities_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_report_activities_worker_time', ['worker_id', 'occurred_at'], unique=False)

    op.create_table('report_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('event_id')
    )
    op.create_table('report_opportunities',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.String(length=32), nullable=True),
    sa.Column('lead_id', sa.String(length=32), nullable=True),
    sa.Column('owner_id', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('won_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_opportunities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_opportunities_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_opportunities_lead_id'), ['lead_id'], unique=False)

    op.create_table('report_person_counters',
    sa.Column('campaign_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=30), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id', 'user_id', 'key')
    )
    op.create_table('report_rates',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rate', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.PrimaryKeyConstraint('user_id', 'valid_from')
    )
    with op.batch_alter_table('report_campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('archived', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('deleted', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('version', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_campaigns_parent_id'), ['parent_id'], unique=False)

    with op.batch_alter_table('report_leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('pool_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('assignees', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('usable_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('gone', sa.String(length=10), nullable=True))



def downgrade():
    with op.batch_alter_table('report_leads', schema=None) as batch_op:
        batch_op.drop_column('gone')
        batch_op.drop_column('usable_at')
        batch_op.drop_column('created_at')
        batch_op.drop_column('assignees')
        batch_op.drop_column('pool_id')
        batch_op.drop_column('owner_id')

    with op.batch_alter_table('report_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_campaigns_parent_id'))
        batch_op.drop_column('version')
        batch_op.drop_column('deleted')
        batch_op.drop_column('archived')
        batch_op.drop_column('status')
        batch_op.drop_column('parent_id')

    op.drop_table('report_rates')
    op.drop_table('report_person_counters')
    with op.batch_alter_table('report_opportunities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_opportunities_lead_id'))
        batch_op.drop_index(batch_op.f('ix_report_opportunities_campaign_id'))

    op.drop_table('report_opportunities')
    op.drop_table('report_events')
    with op.batch_alter_table('report_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_report_activities_worker_time')
        batch_op.drop_index(batch_op.f('ix_report_activities_campaign_id'))

    op.drop_table('report_activities')
