"""bench/lead_search: lead lists at 1,000,000 leads (L-search, API.md "Leads").

Builds the lead service's database with its Alembic migrations (SQLite by default, or the
PostgreSQL URL given with --url), fills it with N leads over 200 campaigns, 500 owners, 5
statuses and 50 tags in bulk, then times the list queries the API runs (first page of 50 and
the page after it), through the service's own repository, and prints each query's plan.

Last line: `lead search: slowest first page P ms, slowest next page Q ms at N leads`.
"""
import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from crmkit.context import RequestContext  # noqa: E402
from crmkit.db import make_engine, session_factory  # noqa: E402
from crmkit.migrations import upgrade  # noqa: E402

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
CITIES = ["上海", "北京", "杭州", "深圳", "广州", "Shanghai", "Beijing", "成都", "南京", "苏州"]
STATUSES = ["raw", "usable", "working", "invalid", "converted"]


def fill(engine, leads_table, assignees_table, total, batch=20000):
    from lead.db import LeadRepository

    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    made = 0
    while made < total:
        rows, assigned = [], []
        for n in range(made, min(total, made + batch)):
            moment = start + timedelta(seconds=n)
            lead_id = f"{int(moment.timestamp() * 1000):012x}{n:020x}"
            mobile = f"13{rng.randint(0, 999999999):09d}"
            owner = f"owner{n % 500:04d}"
            rows.append({
                "id": lead_id, "campaign_id": f"campaign{n % 200:04d}", "pool_id": f"pool{n % 20}",
                "owner_id": owner, "source": "import", "status": STATUSES[n % 5],
                "contact_name": f"{SURNAMES[n % 20]}{n}", "contact_mobile": mobile,
                "contact_email": f"user{n}@example.cn", "company_name": f"{CITIES[n % 10]}某某公司{n % 50000}",
                "company_city": CITIES[n % 10], "tags": json.dumps([f"tag{n % 50}"]), "phones": mobile,
                "search_text": f"{SURNAMES[n % 20]}{n} {CITIES[n % 10]}某某公司{n % 50000} user{n}@example.cn "
                               f"{mobile}".lower(),
                "created_at": moment, "updated_at": moment, "quality_count": 0})
            if n % 3 == 0:
                assigned.append({"lead_id": lead_id, "user_id": f"sales{n % 300:03d}", "perm_contact": "edit",
                                 "perm_company": "edit", "perm_need": "read", "assigned_at": moment})
        with engine.begin() as conn:
            conn.execute(insert(leads_table), rows)
            LeadRepository(conn).index_search([row["id"] for row in rows])  # SQLite's FTS5 entries
            if assigned:
                conn.execute(insert(assignees_table), assigned)
        made += len(rows)
        print(f"  {made} leads", end="\r", flush=True)
    print()


QUERIES = [
    ("newest first, no filter", {}),
    ("campaign_id", {"campaign_id": "campaign0042"}),
    ("status", {"status": "working"}),
    ("owner_id", {"owner_id": "owner0123"}),
    ("assignee_id", {"assignee_id": "sales042"}),
    ("campaign_id + status", {"campaign_id": "campaign0042", "status": "working"}),
    ("q: a 2-character name (no trigram)", {"q": "王4"}),
    ("q: a mobile, typed +86 139 …", {"q": "+86 139 1234"}),
    ("tag", {"tag": "tag7"}),
    ("q: a name", {"q": "王4240"}),
    ("q: a phone typed with +86", {"q": "+86 138"}),
    ("q: a company, rare", {"q": "某某公司4999"}),
]
SALES = RequestContext(user_id="sales042", roles=("sales_member",))
MANAGER = RequestContext(user_id="m1", roles=("sales_manager",), team="east")
ADMIN = RequestContext(user_id="a1", roles=("admin",))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--url", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--plans", action="store_true", help="print each query's plan")
    args = parser.parse_args()

    from lead import db, handlers, service

    with tempfile.TemporaryDirectory(prefix="crm-search-") as tmp:
        url = args.url or f"sqlite:///{tmp}/lead.db"
        upgrade("lead", url, service.MIGRATIONS)
        engine = make_engine(url)
        began = time.perf_counter()
        fill(engine, db.leads, db.lead_assignees, args.leads)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
            conn.execute(insert(db.known_users), [{"id": f"owner{n:04d}", "team": "east" if n < 5 else "west",
                                                   "active": True, "as_of": datetime.now(timezone.utc)}
                                                  for n in range(500)])
        print(f"filled {args.leads} leads in {time.perf_counter() - began:.0f}s")
        uow = db.LeadUnitOfWork(session_factory(engine), db.outbox, db.inbox, "lead.events")
        worst_first = worst_next = 0.0
        cases = [(label, filters, ADMIN) for label, filters in QUERIES] + [
            ("a sales member's own leads", {}, SALES), ("a team manager's leads", {}, MANAGER)]
        for label, filters, ctx in cases:
            began = time.perf_counter()
            first = handlers.list_leads(dict(filters), uow, ctx, limit=50)
            first_ms = (time.perf_counter() - began) * 1000
            next_ms = 0.0
            if first["next_cursor"]:
                began = time.perf_counter()
                handlers.list_leads(dict(filters), uow, ctx, limit=50, cursor=first["next_cursor"])
                next_ms = (time.perf_counter() - began) * 1000
            worst_first, worst_next = max(worst_first, first_ms), max(worst_next, next_ms)
            print(f"{label:32s} {len(first['items']):3d} items  first page {first_ms:8.1f} ms  "
                  f"next page {next_ms:8.1f} ms")
            if args.plans:
                print_plan(engine, filters, ctx)
    print(f"lead search: slowest first page {worst_first:.0f} ms, slowest next page {worst_next:.0f} ms "
          f"at {args.leads} leads")


def print_plan(engine, filters, ctx):
    from lead import db

    with engine.connect() as conn:
        repo = db.LeadRepository(conn)
        captured = []
        original = conn.execute

        def capture(statement, *a, **kw):
            captured.append(statement)
            return original(statement, *a, **kw)
        conn.execute = capture
        query_filters = dict(filters)
        if "sales_member" in ctx.roles:
            query_filters["visible_to"] = {"user_id": ctx.user_id, "team": None}
        repo.list(query_filters, 50, None)
        conn.execute = original
        compiled = captured[0].compile(conn, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
        for row in conn.execute(text(prefix + str(compiled))):
            print("      ", row[-1])


if __name__ == "__main__":
    main()
