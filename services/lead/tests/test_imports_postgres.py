"""An import on PostgreSQL leaves the planner statistics to find a lead by its primary key (L13,
issue 6). Without them, on a table filled faster than autovacuum analyses it, PostgreSQL looked
leads up by id through ix_leads_owner_newest (owner_id, id), reading the whole index on each of an
assignment's UPDATEs: 100,000 imported leads took over ten minutes to assign."""
import os
import uuid

import pytest
from sqlalchemy import text

from crmkit.db import make_engine, session_factory
from crmkit.migrations import upgrade
from lead import db, service
from lead.imports_handlers import run_imports

from .test_imports_handlers import start

PG_URL = os.environ.get("CRM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_uow():
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(PG_URL, connect_timeout=3)
    except psycopg2.OperationalError:
        pytest.skip("needs PostgreSQL at CRM_TEST_PG_URL")
    admin.autocommit = True
    name = f"lead_plan_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade("lead", url, service.MIGRATIONS)
        engine = make_engine(url)
        yield db.LeadUnitOfWork(session_factory(engine), db.outbox, db.inbox, "lead.events"), engine
        engine.dispose()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_after_an_import_a_lead_is_updated_through_its_primary_key(pg_uow, campaigns):
    uow, engine = pg_uow
    content = ("姓名,手机,城市\n" + "".join(f"客户{n},139{n:08d},上海\n" for n in range(3000))).encode()
    start(uow, campaigns, content)
    run_imports(uow, chunk_rows=1000)
    with engine.connect() as conn:
        lead_id = conn.execute(text("SELECT id FROM leads ORDER BY id LIMIT 1 OFFSET 1500")).scalar()
        plan = "\n".join(conn.execute(text("EXPLAIN UPDATE leads SET updated_at = now() WHERE id = :id"),
                                      {"id": lead_id}).scalars())
    assert "leads_pkey" in plan, plan


def test_after_an_import_assigning_every_lead_keeps_each_update_on_its_page(pg_uow, campaigns):
    """Migration 0010: imported pages are half full, so the update an assignment makes (updated_at,
    no index covers it) is HOT: no new entry in any of the nine indexes. With 0008's 85 % a
    quarter of them were."""
    uow, engine = pg_uow
    content = ("姓名,手机,城市\n" + "".join(f"客户{n},139{n:08d},上海\n" for n in range(3000))).encode()
    start(uow, campaigns, content)
    run_imports(uow, chunk_rows=1000)
    with engine.begin() as conn:  # the counters of this transaction (pg_stat_xact_*)
        updated = conn.execute(text("UPDATE leads SET updated_at = now()")).rowcount
        upd, hot = conn.execute(text("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                                     "WHERE relname = 'leads'")).one()
    assert updated == upd == 3000
    assert hot == upd, f"{hot} of {upd} updates were HOT"


def test_two_transactions_learning_of_the_same_campaign_at_once_both_succeed(pg_uow):
    """A new lead names a campaign the lead service has not heard of while campaign.created is being
    projected: both write the campaign's row. The second insert waited for the first and then failed
    on the primary key, a 500 for POST /leads (seen in tests/test_lead_work.py on PostgreSQL)."""
    import threading
    from datetime import datetime, timezone

    from lead.model import KnownCampaign

    uow, engine = pg_uow
    second = db.LeadUnitOfWork(uow._session_factory, db.outbox, db.inbox, "lead.events")
    moment = datetime(2026, 12, 4, tzinfo=timezone.utc)
    failures = []
    with uow:
        uow.campaigns.put(KnownCampaign("C-new", "planned"), moment)  # inserted, not yet committed

        def learn():
            try:
                with second:
                    second.campaigns.put(KnownCampaign("C-new", "active"), moment)  # waits for the first
                    second.commit()
            except Exception as exc:  # noqa: BLE001 - what the test reports
                failures.append(exc)
        thread = threading.Thread(target=learn)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # blocked on the first transaction's row
        uow.commit()
    thread.join(10)
    assert failures == []
    with uow:
        assert uow.campaigns.get("C-new") == KnownCampaign("C-new", "active", False)
