"""lead core: invalid note, normalised phones, quality, responses, known users (L1, L4, L6-L8)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 15:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invalid_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('phones', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('quality_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('quality_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_response', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('last_response_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
        batch_op.drop_index('ix_leads_campaign_id')
        batch_op.drop_index('ix_leads_owner_id')
        batch_op.drop_index('ix_leads_pool_id')
        batch_op.create_index('ix_leads_campaign_newest', ['campaign_id', 'id'], unique=False)
        batch_op.create_index('ix_leads_owner_newest', ['owner_id', 'id'], unique=False)
        batch_op.create_index('ix_leads_pool_newest', ['pool_id', 'id'], unique=False)
    # Leads stored before this revision: their search text, as the repository writes it (near enough:
    # their phones are searched as typed until they next change).
    op.execute("UPDATE leads SET search_text = lower(trim(coalesce(contact_name, '') || ' ' || "
               "coalesce(company_name, '') || ' ' || coalesce(contact_email, '') || ' ' || "
               "coalesce(contact_phone, '') || ' ' || coalesce(contact_mobile, '') || ' ' || "
               "coalesce(company_phone, '')))")
    _search_index()
    op.create_table('known_users',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('known_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_known_users_team'), ['team'], unique=False)
    op.create_table('lead_responses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.String(length=32), nullable=True),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('response', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lead_responses', schema=None) as batch_op:
        batch_op.create_index('ix_lead_responses_lead', ['lead_id', 'id'], unique=False)
    op.create_table('lead_quality',
    sa.Column('lead_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('reachable', sa.Boolean(), nullable=False),
    sa.Column('intent', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('lead_id', 'user_id')
    )


SQLITE_SEARCH = (
    # An external-content FTS5 table over leads.search_text with the trigram tokenizer: LIKE '%x%'
    # on it uses the index. Triggers keep it in step; INSERT INTO lead_search(lead_search)
    # VALUES('rebuild') remakes it (after a VACUUM or a table rebuild, which may renumber rowids).
    "CREATE VIRTUAL TABLE lead_search USING fts5(search_text, content='leads', content_rowid='rowid', "
    "tokenize='trigram')",
    "CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN "
    "INSERT INTO lead_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN "
    "INSERT INTO lead_search(lead_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER leads_search_update AFTER UPDATE OF search_text ON leads BEGIN "
    "INSERT INTO lead_search(lead_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO lead_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "INSERT INTO lead_search(lead_search) VALUES ('rebuild')",
)


def _search_index():
    """The trigram index behind GET /leads?q= (1,000,000 leads): FTS5 on SQLite, pg_trgm on PostgreSQL."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_leads_search_trgm ON leads USING gin (search_text gin_trgm_ops)")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("leads_search_insert", "leads_search_delete", "leads_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS lead_search")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_leads_search_trgm")
    op.drop_table('lead_quality')
    with op.batch_alter_table('lead_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_responses_lead')
    op.drop_table('lead_responses')
    with op.batch_alter_table('known_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_known_users_team'))
    op.drop_table('known_users')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        for name in ('ix_leads_campaign_newest', 'ix_leads_owner_newest', 'ix_leads_pool_newest'):
            batch_op.drop_index(name)
        batch_op.create_index('ix_leads_campaign_id', ['campaign_id'], unique=False)
        batch_op.create_index('ix_leads_owner_id', ['owner_id'], unique=False)
        batch_op.create_index('ix_leads_pool_id', ['pool_id'], unique=False)
        for column in ('search_text', 'last_response_at', 'last_response', 'quality_count', 'quality_score',
                       'phones', 'invalid_note'):
            batch_op.drop_column(column)
