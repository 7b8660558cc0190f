"""rules engine: several rules per campaign in priority order, continue, soft delete; the lead
projection and the user directory (A6-A8)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('continues', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('campaign_rules_new',
    sa.Column('campaign_id', sa.String(length=32), nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('set_by', sa.String(length=32), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id', 'rule_id')
    )
    op.execute("INSERT INTO campaign_rules_new (campaign_id, rule_id, priority, set_by, set_at) "
               "SELECT campaign_id, rule_id, 0, set_by, set_at FROM campaign_rules")
    op.drop_table('campaign_rules')
    op.rename_table('campaign_rules_new', 'campaign_rules')
    op.create_index('ix_campaign_rules_order', 'campaign_rules', ['campaign_id', 'priority'], unique=False)

    op.create_table('leads',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.String(length=32), nullable=True),
    sa.Column('owner_id', sa.String(length=32), nullable=True),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_leads_campaign', 'leads', ['campaign_id', 'id'], unique=False)
    op.create_table('lead_assignees',
    sa.Column('lead_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('lead_id', 'user_id')
    )
    op.create_index('ix_lead_assignees_user', 'lead_assignees', ['user_id'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_users_team', 'users', ['team'], unique=False)


def downgrade():
    op.drop_index('ix_users_team', table_name='users')
    op.drop_table('users')
    op.drop_index('ix_lead_assignees_user', table_name='lead_assignees')
    op.drop_table('lead_assignees')
    op.drop_index('ix_leads_campaign', table_name='leads')
    op.drop_table('leads')
    op.drop_index('ix_campaign_rules_order', table_name='campaign_rules')
    op.create_table('campaign_rules_old',
    sa.Column('campaign_id', sa.String(length=32), nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.Column('set_by', sa.String(length=32), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    op.execute("INSERT INTO campaign_rules_old (campaign_id, rule_id, set_by, set_at) "
               "SELECT campaign_id, rule_id, set_by, set_at FROM campaign_rules c WHERE priority = "
               "(SELECT MIN(priority) FROM campaign_rules d WHERE d.campaign_id = c.campaign_id)")
    op.drop_table('campaign_rules')
    op.rename_table('campaign_rules_old', 'campaign_rules')
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('continues')
