"""intake routes; a lead's utm and rule

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:12:05.114220
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('intake_routes',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('campaign_id', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=True),
    sa.Column('pool_id', sa.String(length=32), nullable=True),
    sa.Column('rule_id', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('intake_routes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_routes_campaign_id'), ['campaign_id'], unique=False)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('utm', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rule_id', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('rule_id')
        batch_op.drop_column('utm')

    with op.batch_alter_table('intake_routes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_routes_campaign_id'))

    op.drop_table('intake_routes')
