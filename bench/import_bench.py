"""bench/import_bench: a 100,000-row CSV through POST /leads/import (L13, issue 6).

Per database: start a stack in a throwaway vhost, create a campaign whose rule gives every
Shanghai lead to one sales person, upload a generated CSV (Chinese names, 1% duplicates of
earlier rows, 0.5% bad e-mails), poll the job until done (stored and de-duplicated), then wait
until no lead of the campaign is unassigned. The ceiling: the same lead rows INSERTed in
batches of 2,000 into a fresh lead database of the same kind (with SQLite's search index entries,
which the service writes in the same transaction), nothing else.

Prints a line per database, PostgreSQL first; the last line (SQLite) reads
`import: N rows/s stored, all assigned in T s (raw insert M rows/s, ratio R)`.
"""
import argparse
import contextlib
import tempfile
import time
import uuid
from pathlib import Path

import common  # noqa: F401 - sets sys.path
import requests
from common import running_stack, vhost, wait_until
from tests.scenario import campaign_with_rule

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def generate(rows) -> tuple[bytes, int, int]:
    """(CSV bytes, expected duplicates, expected bad rows)."""
    lines = ["姓名,公司,手机,邮箱,城市,需求"]
    duplicates = bad = 0
    for n in range(rows):
        if n and n % 100 == 0:  # the same person again, written another way
            m = n - 50
            lines.append(f"{SURNAMES[m % 20]}{GIVEN[m % len(GIVEN)]}{m},某某科技{m}有限公司,+86 139 {m // 10000:04d} {m % 10000:04d},,"
                         f"Shanghai,")
            duplicates += 1
            continue
        email = f"c{n}@example.cn" if n % 200 != 7 else f"c{n}@example"
        bad += n % 200 == 7
        lines.append(f"{SURNAMES[n % 20]}{GIVEN[n % len(GIVEN)]}{n},某某科技{n}有限公司,139{n:08d},{email},Shanghai,需要 {n % 7} 台设备")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8"), duplicates, bad


def raw_insert_rate(url, content) -> float:
    """Rows/s of a batched INSERT of the file's lead rows into a fresh lead database (the ceiling)."""
    from crmkit.db import insert_many, make_engine, writer
    from crmkit.envelope import new_id, now
    from crmkit.migrations import upgrade
    from lead import imports
    from lead.db import LeadRepository, leads
    from lead.model import Lead
    from lead.service import MIGRATIONS

    upgrade("lead", url, MIGRATIONS)
    sheet = imports.read_sheet(content)
    moment = now()
    rows = []
    for number, cells in sheet.rows:
        fields, errors = imports.row_fields(number, cells, sheet.columns)
        if not errors:
            lead = Lead.create(id=new_id(), now=moment, owner_id="u", campaign_id="C", source="import", **fields)
            rows.append({**LeadRepository._row(lead), "source": "import", "request_key": None, "created_at": moment})
    engine = make_engine(url)
    start = time.monotonic()
    for first in range(0, len(rows), imports.CHUNK_ROWS):
        with writer(engine).begin() as conn:
            chunk = rows[first:first + imports.CHUNK_ROWS]
            insert_many(conn, leads, chunk)  # on PostgreSQL one JSON document, not VALUES lists
            LeadRepository(conn).index_search([row["id"] for row in chunk])  # SQLite's FTS5 entries
    elapsed = time.monotonic() - start
    engine.dispose()
    return len(rows) / elapsed


@contextlib.contextmanager
def databases(kind):
    """{service: url} for a stack ({} = SQLite files of the stack), and a spare lead database URL."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="crm-import-raw-") as spare:
            yield {}, f"sqlite:///{Path(spare) / 'lead.db'}"
        return
    from tests.support import create_pg_databases, drop_pg_databases

    urls = create_pg_databases(f"crmbench_{uuid.uuid4().hex[:6]}")
    spare = create_pg_databases(f"crmbench_{uuid.uuid4().hex[:6]}")
    try:
        yield urls, spare["lead"]
    finally:
        drop_pg_databases(urls)
        drop_pg_databases(spare)


def run(kind, rows, content, expected_duplicates, expected_bad, timeout, replicas=None):
    with databases(kind) as (urls, spare), vhost() as amqp_uri:
        env = {f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()}
        with running_stack(amqp_uri, env=env, replicas=replicas) as stack:
            campaign, _, _ = campaign_with_rule(stack.api, city="Shanghai")
            headers = {"Authorization": "Bearer bench-token"}
            base = f"{stack.url}/api/v1"

            start = time.monotonic()
            response = requests.post(f"{base}/leads/import", headers=headers, data={"campaign_id": campaign["id"]},
                                     files={"file": ("bench.csv", content, "text/csv")}, timeout=120)
            assert response.status_code == 202, response.text
            uploaded = time.monotonic() - start
            job_url = f"{base}/imports/{response.json()['job_id']}"
            job = {}

            def stored():
                job.update(requests.get(job_url, headers=headers, timeout=30).json())
                return job["status"] in ("done", "failed")

            if not wait_until(stored, timeout, interval=0.2) or job["status"] != "done":
                raise SystemExit(f"{kind}: import not done in {timeout}s: {job}")
            stored_after = time.monotonic() - start
            expected = rows - expected_duplicates - expected_bad
            if (job["imported"], job["duplicates"], job["error_count"]) != (expected, expected_duplicates, expected_bad):
                raise SystemExit(f"{kind}: wrong totals {job}; expected {expected} imported")
            unassigned = f"{base}/leads"
            params = {"campaign_id": campaign["id"], "unassigned": "true", "limit": 1}

            def assigned():
                page = requests.get(unassigned, headers=headers, params=params, timeout=30)
                if page.status_code != 200:
                    raise SystemExit(f"{kind}: GET /leads?unassigned=true answered {page.status_code}: {page.text}")
                return not page.json()["items"]

            all_assigned = time.monotonic() - start if wait_until(assigned, timeout, interval=0.5) else float("nan")
            if all_assigned != all_assigned:
                report = requests.get(f"{base}/reports/campaigns/{campaign['id']}", headers=headers, timeout=30)
                print(f"{kind}: NOT all assigned {timeout:.0f}s after the upload; report: "
                      f"{report.json().get('leads')}", flush=True)
        raw = raw_insert_rate(spare, content)
    rate = rows / stored_after
    print(f"{kind}: upload {uploaded:.1f}s, stored and de-duplicated {rows} rows in {stored_after:.1f}s "
          f"({job['imported']} leads, {job['duplicates']} duplicates, {job['error_count']} bad rows), "
          f"all assigned after {all_assigned:.1f}s", flush=True)
    return rate, all_assigned, raw


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--replicas", default="", help="processes per service, e.g. lead=2 (default 1 each)")
    args = parser.parse_args()

    content, duplicates, bad = generate(args.rows)
    print(f"file: {args.rows} rows, {len(content) / 1e6:.1f} MB UTF-8, {duplicates} duplicates, {bad} bad e-mails",
          flush=True)
    kinds = ["postgres", "sqlite"] if args.database == "both" else [args.database]
    replicas = {name: int(count) for name, count in (part.split("=") for part in args.replicas.split(",") if part)}
    for kind in kinds:
        rate, assigned_after, raw = run(kind, args.rows, content, duplicates, bad, args.timeout, replicas)
        name = "import" if kind == "sqlite" else f"import ({kind})"
        print(f"{name}: {rate:.0f} rows/s stored, all assigned in {assigned_after:.1f} s "
              f"(raw insert {raw:.0f} rows/s, ratio {rate / raw:.2f})", flush=True)


if __name__ == "__main__":
    main()
