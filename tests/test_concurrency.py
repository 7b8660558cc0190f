"""Many clients at once, and several replicas on the same queues (scale out by replicas)."""
import subprocess
import sys
import textwrap
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.events import Subscriber
from tests.scenario import campaign_with_rule, wait_report_total
from tests.support import PG_URL, Api, wait_for

pytestmark = pytest.mark.integration

LEADS, CLIENTS = 200, 8


def post_leads(stack, campaign_id):
    """LEADS leads from CLIENTS parallel clients; returns the responses' (status, lead id)."""
    def client(index):
        api = Api(stack.url, stack.api.token)
        results = []
        for n in range(index, LEADS, CLIENTS):
            response = api.post("/leads", json={
                "campaign_id": campaign_id, "contact": {"name": f"客户 {n}", "mobile": f"139{n:08d}"},
                "company": {"name": f"公司 {n}", "city": "上海" if n % 2 else "Shanghai"}})
            results.append((response.status_code, response.json().get("id")))
        return results

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [r for results in pool.map(client, range(CLIENTS)) for r in results]


def all_leads(api, campaign_id):
    leads, cursor = [], None
    while True:
        page = api.ok("GET", "/leads", params={"campaign_id": campaign_id, "limit": 200, "cursor": cursor})
        leads += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return leads


@pytest.mark.parametrize("replicas", [None, {"lead": 2, "assignment": 2}], ids=["single", "two-replicas"])
def test_200_leads_from_8_clients_are_all_stored_assigned_once_and_counted(make_stack, replicas):
    stack = make_stack(replicas=replicas)
    api = stack.api
    # a rule's bulk assignment publishes lead.assigned packed (README "Events"): bind both forms
    subscriber = Subscriber(stack.env["AMQP_URI"], "lead.events", ("lead.assigned", "lead.assigned.batch"))
    try:
        campaign, _, sales = campaign_with_rule(api, city="shanghai", recipients=2,
                                                distribution="round_robin")
        # 上海 does not fold to Shanghai: the region matcher is the rules-engine issue's.
        # Half the leads match (A4 case/space folding), half stay with their owner.
        results = post_leads(stack, campaign["id"])
        assert Counter(status for status, _ in results) == {201: LEADS}  # no 5xx, nothing refused
        ids = {lead_id for _, lead_id in results}
        assert len(ids) == LEADS

        report = wait_report_total(api, campaign["id"], LEADS, timeout=60)
        wait_for(lambda: api.ok("GET", f"/reports/campaigns/{campaign['id']}")["leads"]["assigned"]
                 == LEADS // 2, 60, message="half the leads assigned")
        stored = all_leads(api, campaign["id"])
        assert {lead["id"] for lead in stored} == ids
        matched = [lead for lead in stored if lead["company"]["city"] == "Shanghai"]
        assert all(len(lead["assignees"]) == 1 for lead in matched)
        assert all(lead["assignees"] == [] for lead in stored if lead not in matched)
        # round robin keeps its turn in the database: fair across replicas, exactly
        per_person = Counter(lead["assignees"][0]["user_id"] for lead in matched)
        assert per_person == {sales[0]["id"]: LEADS // 4, sales[1]["id"]: LEADS // 4}

        events = wait_for(lambda: len(subscriber.drain(0.2)) >= LEADS // 2 and subscriber.events, 30)
        subscriber.drain(1.0)
        assert Counter(e["body"]["data"]["id"] for e in events).most_common(1)[0][1] == 1  # none twice
        assert report["leads"]["by_status"] == {"raw": LEADS}
        assert api.ok("GET", "/health")["dead_letters"] == 0
    finally:
        subscriber.close()


@pytest.mark.postgres
def test_psycopg2_under_eventlet_does_not_block_the_hub(tmp_path):
    """Ten concurrent 0.5 s queries through crmkit's engine finish together, not one by one."""
    script = tmp_path / "concurrency.py"
    script.write_text(textwrap.dedent(f"""
        import eventlet
        eventlet.monkey_patch()
        import time
        from sqlalchemy import text
        from crmkit.db import make_engine
        engine = make_engine({PG_URL!r}, pool_size=10)
        def sleep():
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_sleep(0.5)"))
        sleep()  # connect once
        pool = eventlet.GreenPool(10)
        start = time.monotonic()
        for _ in range(10):
            pool.spawn(sleep)
        pool.waitall()
        print(round(time.monotonic() - start, 2))
    """))
    elapsed = float(subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                                   check=True, timeout=60).stdout.strip())
    assert elapsed < 2.5, f"10 x 0.5 s queries took {elapsed}s: the driver blocks the eventlet hub"
