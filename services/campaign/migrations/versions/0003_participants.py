"""campaign participants (C2)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 15:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_participants',
    sa.Column('campaign_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('permission', sa.String(length=10), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('campaign_id', 'user_id')
    )
    with op.batch_alter_table('campaign_participants', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_participants_user', ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_participants', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_participants_user')
    op.drop_table('campaign_participants')
