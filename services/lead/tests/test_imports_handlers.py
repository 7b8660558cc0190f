"""Import jobs (L13) on the fake and on the real unit of work (Alembic-built SQLite): the job's
life, per-row errors, duplicates, and chunks that commit whole or not at all and resume."""
from datetime import timedelta

import pytest

from crmkit.context import RequestContext
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound
from lead import handlers, imports_handlers
from lead.imports_handlers import add_import_part, create_import, get_import, run_imports, submit_import

IMPORTER = RequestContext(user_id="mkt1", roles=("marketing_member",), correlation_id="req-9")
GBK_FILE = ("姓名,公司,电话,邮箱,城市\n"
            "张三,上海某某科技有限公司,021-62991640,zhang@example.cn,上海\n"
            "\n"
            "李四,杭州某某机械,0571-88886666,li@,杭州\n"       # row 4: bad e-mail
            ",,13800138000,,北京\n"                              # row 5: no name
            "张三丰,另一家公司,021 6299 1640,,上海\n"             # row 6: the phone of row 2
            "王五,北京某某,010-12345678,wang@example.cn,北京\n").encode("gbk")


def start(uow, campaigns, content, ctx=IMPORTER, parts=1, **options):
    job_id = create_import({"campaign_id": "C1", **options}, uow, ctx, campaigns.describe_campaign)["job_id"]
    size = -(-len(content) // parts)
    for seq in range(parts):
        add_import_part(job_id, seq, content[seq * size:(seq + 1) * size], uow, ctx)
    submit_import(job_id, uow, ctx)
    return job_id


def imported(uow, campaigns, content, chunk_rows=2000, **options):
    """Run a whole import; → the job as GET /imports/{id} shows it."""
    job_id = start(uow, campaigns, content, **options)
    run_imports(uow, chunk_rows=chunk_rows)
    return get_import(job_id, uow, IMPORTER)


def existing(uow, campaigns, ctx, **sections):
    return handlers.create_lead({"campaign_id": "C1", **sections}, uow, ctx, campaigns.describe_campaign)


def stored(uow):
    with uow:
        items = handlers.list_leads({}, uow, RequestContext(roles=("admin",)), limit=100)["items"]
    return {lead["contact"]["name"] or lead["company"]["name"]: lead for lead in reversed(items)}


def test_a_gbk_file_imports_its_good_rows_and_reports_the_bad_ones_by_row(any_uow, campaigns):
    job_id = start(any_uow, campaigns, GBK_FILE, parts=3, pool_id="P1")
    assert get_import(job_id, any_uow, IMPORTER)["status"] == "queued"

    assert run_imports(any_uow) == [job_id]

    job = get_import(job_id, any_uow, IMPORTER)
    assert {k: job[k] for k in ("status", "total", "processed", "imported", "duplicates", "encoding")} == \
        {"status": "done", "total": 5, "processed": 5, "imported": 2, "duplicates": 1, "encoding": "gb18030"}
    assert job["errors"] == [
        {"row": 4, "field": "contact.email", "message": "Not a valid e-mail address: 'li@'."},
        {"row": 5, "field": "contact.name", "message": "A lead needs a contact name or a company name."}]
    leads = stored(any_uow)
    assert set(leads) == {"张三", "王五"}
    assert {(lead["campaign_id"], lead["pool_id"], lead["owner_id"], lead["source"], lead["status"])
            for lead in leads.values()} == {("C1", "P1", "mkt1", "import", "raw")}
    created = any_uow.published("lead.created")
    assert sorted(e["data"]["id"] for e in created) == sorted(lead["id"] for lead in leads.values())
    assert {(e["actor_id"], e["correlation_id"]) for e in created} == {("mkt1", "req-9")}
    with any_uow:
        [entry] = handlers.get_history(leads["张三"]["id"], any_uow, IMPORTER)["items"]
    assert (entry["action"], entry["channel"], entry["actor_id"]) == ("created", "import", "mkt1")


def test_imported_leads_are_found_by_search_at_once(any_uow, campaigns):
    """On SQLite the import writes the trigram search entries of its chunk itself (migration 0009
    dropped the per-row trigger): a lead from the file is found by a piece of its name, company or
    e-mail as soon as its chunk is committed, and a lead created one at a time still is."""
    imported(any_uow, campaigns, GBK_FILE, chunk_rows=2)
    admin = RequestContext(roles=("admin",))
    made = existing(any_uow, campaigns, admin, contact={"name": "赵六"}, company={"name": "深圳某某电子"})
    with any_uow:
        def found(q):
            return sorted(lead["contact"]["name"] for lead in handlers.list_leads({"q": q}, any_uow, admin)["items"])

        assert found("张三") == ["张三"]
        assert found("某某") == ["张三", "王五", "赵六"]
        assert found("wang@example") == ["王五"]
        assert found("深圳某某") == [made["contact"]["name"]]


def test_rows_duplicating_stored_leads_or_earlier_rows_are_skipped_by_default(any_uow, campaigns, owner):
    existing(any_uow, campaigns, owner, contact={"name": "赵六", "email": "zhao@example.cn"})
    content = "name,company,email\n赵六二,X,ZHAO@example.cn\n甲,Y,a@example.cn\n乙,Z,a@example.cn\n".encode()

    job = imported(any_uow, campaigns, content, chunk_rows=2)

    assert (job["imported"], job["duplicates"], job["errors"]) == (1, 2, [])
    assert set(stored(any_uow)) == {"赵六", "甲"}


def test_flagged_duplicates_are_stored_pointing_at_what_they_duplicate(any_uow, campaigns, owner):
    first = existing(any_uow, campaigns, owner, contact={"name": "赵六", "mobile": "13900001111"})
    content = "姓名,手机\n赵六,+86 139 0000 1111\n钱七,13900002222\n钱七七,139-0000-2222\n".encode()

    job = imported(any_uow, campaigns, content, on_duplicate="flag")

    assert (job["imported"], job["duplicates"]) == (3, 2)
    leads = stored(any_uow)
    assert leads["钱七七"]["duplicate_of"] == [leads["钱七"]["id"]]
    assert leads["赵六"]["duplicate_of"] == [first["id"]]  # the newer 赵六 (newest first)


def test_update_fills_the_empty_fields_of_the_lead_a_row_duplicates(any_uow, campaigns, owner):
    first = existing(any_uow, campaigns, owner, contact={"name": "赵六", "email": "zhao@example.cn"},
                     company={"name": "旧公司"})
    content = "姓名,邮箱,公司,城市,职位\n赵六,zhao@example.cn,新公司,南京,\n孙八,sun@example.cn,孙记,,\n孙八,,孙记,,老板\n".encode()

    job = imported(any_uow, campaigns, content, on_duplicate="update")

    assert (job["imported"], job["duplicates"]) == (1, 2)
    leads = stored(any_uow)
    assert (leads["赵六"]["company"]["name"], leads["赵六"]["company"]["city"]) == ("旧公司", "南京")
    assert leads["孙八"]["contact"]["title"] == "老板"
    [updated] = any_uow.published("lead.updated")
    assert (updated["data"]["id"], updated["data"]["changes"]) == (first["id"], {
        "company.city": {"from": None, "to": "南京"}})


def test_a_chunk_that_fails_leaves_nothing_and_the_job_resumes_at_its_checkpoint(any_uow, campaigns, monkeypatch):
    content = ("姓名,手机\n" + "".join(f"客户{n},1390000{n:04d}\n" for n in range(7)) + "坏,12\n").encode()
    job_id = start(any_uow, campaigns, content)
    calls = []

    def crash_on_second_chunk():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("process died")

    original = imports_handlers._chunk

    def failing_chunk(rows, *args):
        if rows[0][0] == 6:  # the third chunk dies half way: after its leads, before its checkpoint
            original(rows, *args)
            raise RuntimeError("database went away")
        return original(rows, *args)

    monkeypatch.setattr(imports_handlers, "LEASE", timedelta(seconds=-1))  # a dead runner's lease is over
    with pytest.raises(RuntimeError, match="process died"):
        run_imports(any_uow, pause=crash_on_second_chunk, chunk_rows=2)
    assert get_import(job_id, any_uow, IMPORTER)["processed"] == 4
    monkeypatch.setattr(imports_handlers, "_chunk", failing_chunk)
    with pytest.raises(RuntimeError, match="went away"):
        run_imports(any_uow, chunk_rows=2)
    job = get_import(job_id, any_uow, IMPORTER)
    assert (job["status"], job["processed"], job["imported"]) == ("running", 4, 4)
    assert len(stored(any_uow)) == 4

    monkeypatch.setattr(imports_handlers, "_chunk", original)
    assert run_imports(any_uow, chunk_rows=2) == [job_id]

    job = get_import(job_id, any_uow, IMPORTER)
    assert {k: job[k] for k in ("status", "processed", "imported", "duplicates", "error_count")} == \
        {"status": "done", "processed": 8, "imported": 7, "duplicates": 0, "error_count": 1}
    assert job["errors"] == [{"row": 9, "field": "contact.mobile", "message": "Not a valid phone number: '12'."}]
    assert sorted(stored(any_uow)) == [f"客户{n}" for n in range(7)]
    assert len(any_uow.published("lead.created")) == 7


def test_a_chunk_that_fails_every_time_fails_its_job_with_the_reason_after_a_few_attempts(any_uow, campaigns,
                                                                                          monkeypatch):
    job_id = start(any_uow, campaigns, ("姓名\n" + "".join(f"客户{n}\n" for n in range(6))).encode())
    original = imports_handlers._chunk

    def poisoned_chunk(rows, *args):
        if rows[0][0] >= 4:  # the second chunk (rows 4-5) can never be stored
            raise ValueError("no such column: 客户")
        return original(rows, *args)

    monkeypatch.setattr(imports_handlers, "LEASE", timedelta(seconds=-1))
    monkeypatch.setattr(imports_handlers, "_chunk", poisoned_chunk)
    for attempt in range(imports_handlers.MAX_ATTEMPTS):
        with pytest.raises(ValueError):
            run_imports(any_uow, chunk_rows=2)
        running = get_import(job_id, any_uow, IMPORTER)
        assert (running["status"], running["failure"]) == ("running", "ValueError: no such column: 客户")
    assert run_imports(any_uow, chunk_rows=2) == []  # the next claim gives up instead of trying again

    job = get_import(job_id, any_uow, IMPORTER)
    assert (job["status"], job["processed"], job["imported"]) == ("failed", 2, 2)
    assert job["failure"] == (f"Stopped after {imports_handlers.MAX_ATTEMPTS} attempts made no progress at data "
                              "row 3 (ValueError: no such column: 客户); the rows before it are imported.")
    assert sorted(stored(any_uow)) == ["客户0", "客户1"]
    assert run_imports(any_uow, chunk_rows=2) == [] and get_import(job_id, any_uow, IMPORTER)["status"] == "failed"


def test_a_job_that_makes_progress_between_failures_is_never_given_up(any_uow, campaigns, monkeypatch):
    job_id = start(any_uow, campaigns, ("姓名\n" + "".join(f"客户{n}\n" for n in range(14))).encode())
    original, calls = imports_handlers._chunk, []

    def flaky_chunk(rows, *args):
        calls.append(rows[0][0])
        if calls.count(rows[0][0]) == 1:  # every chunk fails once, then goes through
            raise ConnectionError("database went away")
        return original(rows, *args)

    monkeypatch.setattr(imports_handlers, "LEASE", timedelta(seconds=-1))
    monkeypatch.setattr(imports_handlers, "_chunk", flaky_chunk)
    for _ in range(2 * 7):
        try:
            if run_imports(any_uow, chunk_rows=2) == [job_id]:
                break
        except ConnectionError:
            pass
    job = get_import(job_id, any_uow, IMPORTER)
    assert (job["status"], job["imported"], job["failure"]) == ("done", 14, None)


def test_a_runner_that_lost_its_lease_commits_nothing_more(any_uow, campaigns):
    job_id = start(any_uow, campaigns, "姓名\n甲\n乙\n".encode())
    with any_uow:
        moment = imports_handlers.now()
        any_uow.imports.claim(job_id, "old-runner", moment, moment - timedelta(seconds=1))
        any_uow.commit()
    with any_uow:
        any_uow.imports.claim(job_id, "new-runner", moment, moment + timedelta(seconds=30))
        any_uow.commit()

    assert imports_handlers.run_import(job_id, "old-runner", any_uow, chunk_rows=1) is False

    assert stored(any_uow) == {} and get_import(job_id, any_uow, IMPORTER)["processed"] == 0
    assert imports_handlers.run_import(job_id, "new-runner", any_uow, chunk_rows=1) is True
    assert set(stored(any_uow)) == {"甲", "乙"}


def test_only_marketing_roles_import_into_an_open_campaign(uow, campaigns):
    sales = RequestContext(user_id="s1", roles=("sales_member",))

    with pytest.raises(Forbidden):
        create_import({"campaign_id": "C1"}, uow, sales, campaigns.describe_campaign)
    with pytest.raises(Invalid) as unknown:
        create_import({"campaign_id": "NOPE"}, uow, IMPORTER, campaigns.describe_campaign)
    with pytest.raises(Conflict):
        create_import({"campaign_id": "OLD"}, uow, IMPORTER, campaigns.describe_campaign)
    assert unknown.value.details == {"campaign_id": "No such campaign."}


def test_a_file_that_cannot_be_read_fails_its_job_at_submit(uow, campaigns):
    with pytest.raises(Invalid) as error:
        start(uow, campaigns, b"foo;bar\n1;2\n")
    [job] = uow.state["import_jobs"].values()

    assert "foo, bar" in error.value.details["file"]
    assert (job["status"], job["failure"]) == ("failed", error.value.message)
    assert run_imports(uow) == []


def test_a_job_is_seen_by_importers_only_and_takes_parts_until_submitted(uow, campaigns):
    job_id = start(uow, campaigns, "姓名\n甲\n".encode())

    with pytest.raises(NotFound):
        get_import(job_id, uow, RequestContext(user_id="s1", roles=("sales_member",)))
    with pytest.raises(Conflict):
        add_import_part(job_id, 1, b"more", uow, IMPORTER)
    assert get_import(job_id, uow, RequestContext(user_id="boss", roles=("admin",)))["total"] == 1


def test_migration_0006_builds_the_import_tables_as_declared(lead_schema):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from lead.db import metadata

    engine = create_engine(f"sqlite:///{lead_schema}")
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()

    assert [d for d in diffs if "import_" in repr(d)] == []


def test_migration_0009_leaves_the_leads_table_as_declared(lead_schema):
    """The partial indexes (pool, claimer, landline) and the other indexes of leads match the
    metadata; the FTS5 insert trigger is gone, its update and delete triggers stay."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, text

    from lead.db import metadata

    engine = create_engine(f"sqlite:///{lead_schema}")
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        partial = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE name IN "
                                    "('ix_leads_claimed_by', 'ix_leads_pool_newest', 'ix_leads_phone_key')")).all()
        triggers = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    engine.dispose()

    assert [d for d in diffs if "'leads'" in repr(d) or "ix_leads" in repr(d)] == []
    assert len(partial) == 3
    assert [name for name, sql in partial if "IS NOT NULL" not in sql] == []
    assert {"leads_search_update", "leads_search_delete"} <= triggers and "leads_search_insert" not in triggers


@pytest.mark.parametrize("query, index", [
    ("SELECT id FROM leads WHERE pool_id = 'p' AND deleted_at IS NULL ORDER BY id DESC LIMIT 50",
     "ix_leads_pool_newest"),
    ("SELECT count(*) FROM leads WHERE claimed_by = 'u' AND deleted_at IS NULL", "ix_leads_claimed_by"),
    ("SELECT id FROM leads WHERE claimed_by IS NOT NULL AND deleted_at IS NULL", "ix_leads_claimed_by"),
    ("SELECT id FROM leads WHERE deleted_at IS NULL AND (phone_key IN ('1', '2') OR mobile_key IN ('1', '2'))",
     "ix_leads_phone_key"),
])
def test_the_partial_indexes_serve_the_queries_that_ask_for_a_value(lead_schema, query, index):
    """Migration 0009: pool lists, claim limits, recycling and duplicate phones still find their
    leads through an index that holds only the leads with a value."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{lead_schema}")
    with engine.connect() as conn:
        plan = " / ".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))
    engine.dispose()
    assert f"USING INDEX {index}" in plan, plan
