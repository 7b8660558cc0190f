"""duplicate keys, merge pointer, pools, claims and releases (L9, L14)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 15:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KEYS = ('email_key', 'phone_key', 'mobile_key', 'name_key', 'claimed_by')


def upgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('phone_key', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('mobile_key', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('name_key', sa.String(length=401), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('merged_into', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        for column in KEYS:
            batch_op.create_index(f'ix_leads_{column}', [column], unique=False)
    # Leads stored before: their e-mail key (phones and names are keyed when they next change).
    op.execute("UPDATE leads SET email_key = lower(trim(contact_email)) WHERE contact_email IS NOT NULL")
    op.create_table('pools',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_id', sa.String(length=32), nullable=True),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('claim_limit', sa.Integer(), nullable=True),
    sa.Column('recycle_days', sa.Integer(), nullable=True),
    sa.Column('cooldown_hours', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pools', schema=None) as batch_op:
        batch_op.create_index('ix_pools_parent_id', ['parent_id'], unique=False)
    op.create_table('lead_releases',
    sa.Column('lead_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('lead_id', 'user_id')
    )


def downgrade():
    op.drop_table('lead_releases')
    with op.batch_alter_table('pools', schema=None) as batch_op:
        batch_op.drop_index('ix_pools_parent_id')
    op.drop_table('pools')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        for column in KEYS:
            batch_op.drop_index(f'ix_leads_{column}')
        for column in ('claimed_at', 'claimed_by', 'merged_into', 'duplicate_of', 'name_key', 'mobile_key',
                       'phone_key', 'email_key'):
            batch_op.drop_column(column)
