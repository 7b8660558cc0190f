"""bench/reports: the reporting service under a campaign history (R1, R2, R6, issue 8).

1. Start the stack; create the campaigns through the gateway (their events reach reporting).
2. Load the history — lead.created (a tenth then usable), activity.logged with effort, and an
   opportunity created and won per 100 leads — by calling the projection's batch handler in-process
   on the reporting database (what the consumer does, without the broker): "load" events/s.
3. `GET /reports/campaigns/{id}` through the gateway, random campaigns, one client: p99, beside the
   ceiling, a bare SELECT by primary key on the same database.
4. Live projection: publish fresh lead.created events to `lead.events` and time until reporting has
   projected them all (broker → consumer → projection → commit): events/s, beside the raw consume
   rate of the broker (pika, same messages, no work).
5. Full rebuild (`python -m reporting.rebuild`'s function) of everything kept: seconds.

The default size is the issue's: 1,000,000 leads, 200,000 activities, 1,000 campaigns (about ten
minutes on 2 cores, most of it loading and the rebuild). `--scale 0.1` runs a tenth of it, and
then the rebuild time is extrapolated linearly to the full size (it replays events in order).
`--state DIR` keeps the loaded history to measure again without loading (`--no-rebuild` skips 5).

Last line: `reports: p99 D ms, projection N events/s, rebuild T s`.
"""
import argparse
import json
import random
import sqlite3
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import common  # noqa: F401 - sets sys.path
import pika
from common import running_stack, vhost, wait_until
from crmkit.envelope import new_id  # event ids as the services make them (time-ordered)

FULL_LEADS, FULL_ACTIVITIES = 1_000_000, 200_000


def event(event_type, data, moment):
    return {"event_id": new_id(), "type": event_type, "version": 1,
            "occurred_at": moment.isoformat().replace("+00:00", "Z"), "actor_id": "bench", "data": data}


def history(campaign_ids, leads, activities, workers):
    """The events of the history, in time order, lazily."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rng = random.Random(8)
    per_activity = max(1, leads // max(activities, 1))
    for n in range(leads):
        moment = start + timedelta(seconds=n)
        stamp = moment.isoformat().replace("+00:00", "Z")
        lead = {"id": f"L{n:08d}", "campaign_id": campaign_ids[n % len(campaign_ids)], "status": "raw",
                "source": rng.choice(("trade_show", "web_form", "import")), "owner_id": "bench",
                "pool_id": None, "assignees": [], "created_at": stamp, "updated_at": stamp}
        yield event("lead.created", lead, moment)
        if n % 10 == 0:
            later = moment + timedelta(hours=1)
            yield event("lead.status_changed", {**lead, "status": "usable",
                                                "updated_at": later.isoformat().replace("+00:00", "Z")}, later)
        if n % per_activity == 0 and n // per_activity < activities:
            yield event("activity.logged", {"id": f"A{n:08d}", "lead_id": lead["id"], "campaign_id": lead["campaign_id"],
                                            "worker_id": workers[n % len(workers)], "effort_hours": 1.5,
                                            "cost": "10.00", "occurred_at": stamp}, moment)
        if n % 100 == 0:
            opportunity = {"id": f"O{n:08d}", "lead_id": lead["id"], "campaign_id": lead["campaign_id"],
                           "owner_id": "bench", "status": "open", "amount": "5000.00", "won_amount": None,
                           "created_at": stamp, "updated_at": stamp}
            yield event("opportunity.created", opportunity, moment)
            won = moment + timedelta(days=3)
            yield event("opportunity.won", {**opportunity, "status": "won", "won_amount": "4800.00",
                                            "updated_at": won.isoformat().replace("+00:00", "Z")}, won)


def reporting_uow(url):
    from crmkit.db import make_engine, session_factory
    from reporting import db

    engine = make_engine(url)
    return engine, db.ReportingUnitOfWork(session_factory(engine), db.outbox, db.inbox, "reporting.events")


def load(url, events, batch=1000):
    from reporting import handlers

    engine, uow = reporting_uow(url)
    count, started, chunk = 0, time.monotonic(), []
    for one in events:
        chunk.append(one)
        if len(chunk) == batch:
            handlers.project_events(chunk, uow)
            count += len(chunk)
            chunk = []
            if count % 100_000 == 0:
                print(f"  loaded {count} events, {count / (time.monotonic() - started):.0f}/s", flush=True)
    if chunk:
        handlers.project_events(chunk, uow)
        count += len(chunk)
    engine.dispose()
    return count, time.monotonic() - started


def p99(samples):
    return statistics.quantiles(samples, n=100)[98] * 1000


def report_latency(stack, campaign_ids, requests_count):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    headers = {"Authorization": "Bearer bench-token"}
    rng, samples = random.Random(1), []
    for _ in range(requests_count):
        path = f"/api/v1/reports/campaigns/{rng.choice(campaign_ids)}"
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        samples.append(time.perf_counter() - started)
        assert response.status == 200, response.status
    connection.close()
    return p99(samples)


def select_latency(path, campaign_ids, count):
    conn = sqlite3.connect(path)
    rng, samples = random.Random(2), []
    for _ in range(count):
        started = time.perf_counter()
        conn.execute("SELECT * FROM report_campaigns WHERE id = ?", (rng.choice(campaign_ids),)).fetchall()
        samples.append(time.perf_counter() - started)
    conn.close()
    return p99(samples)


def live_projection(stack, amqp_uri, campaign_ids, count):
    """Publish `count` lead.created to lead.events; seconds until all are projected."""
    def projected():
        return stack.api.ok("GET", "/ops/status")["services"]["reporting"]["projection"]["events"]
    before = projected()
    now = datetime.now(timezone.utc)
    bodies = [json.dumps(event("lead.created", {"id": f"LIVE{n:08d}", "campaign_id": campaign_ids[n % len(campaign_ids)],
                                                "status": "raw", "source": "web_form", "assignees": [],
                                                "updated_at": now.isoformat().replace("+00:00", "Z")}, now)).encode()
              for n in range(count)]
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    started = time.monotonic()
    for body in bodies:
        channel.basic_publish("lead.events", "lead.created", body,
                              pika.BasicProperties(content_type="application/json", delivery_mode=2))
    connection.close()
    assert wait_until(lambda: projected() >= before + count, 600, interval=0.2), "projection did not finish"
    return count / (time.monotonic() - started), bodies


def raw_consume(amqp_uri, bodies):
    """The ceiling: pika publishing the same messages to a plain queue and consuming them, no work."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    queue = channel.queue_declare("", exclusive=True).method.queue
    for body in bodies:
        channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))
    channel.basic_qos(prefetch_count=500)
    started, seen = time.monotonic(), 0
    for method, _, _ in channel.consume(queue, inactivity_timeout=5):
        if method is None:
            break
        channel.basic_ack(method.delivery_tag)
        seen += 1
        if seen == len(bodies):
            break
    rate = seen / (time.monotonic() - started)
    connection.close()
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 1,000,000 leads / 200,000 activities")
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--live", type=int, default=50000, help="events published for the live projection rate")
    parser.add_argument("--state", help="keep the loaded databases in this directory and, if they are there "
                                        "already, use them instead of loading again (to measure again)")
    parser.add_argument("--no-rebuild", action="store_true", help="skip the rebuild")
    args = parser.parse_args()
    leads, activities = int(FULL_LEADS * args.scale), int(FULL_ACTIVITIES * args.scale)
    state = Path(args.state).resolve() if args.state else None
    loaded = json.loads((state / "loaded.json").read_text()) if state and (state / "loaded.json").exists() else None
    env = {"CRM_VAR_DIR": str(state)} if state else None

    with vhost() as amqp_uri, running_stack(amqp_uri, env=env) as stack:
        api = stack.api
        url = stack.env.get("REPORTING_DATABASE_URL") or f"sqlite:///{stack.env['CRM_VAR_DIR']}/reporting.db"
        if loaded:
            campaign_ids = loaded["campaign_ids"]
            for path in state.glob("*.db"):  # as warm as after loading: read once into the page cache
                with open(path, "rb") as file:
                    while file.read(1 << 24):
                        pass
            print(f"history: as loaded before in {state}: {loaded['events']} events", flush=True)
        else:
            workers = [api.user(f"bench-worker-{i}", roles=["sales_member"], hourly_rate=60 + 10 * i)[0]["id"]
                       for i in range(5)]
            campaign_ids = [api.ok("POST", "/campaigns", json={"name": f"活动 {i}", "type": "trade_show",
                                                              "budget": "100000", "expected_revenue": "500000"})["id"]
                            for i in range(args.campaigns)]
            assert wait_until(lambda: api.get(f"/reports/campaigns/{campaign_ids[-1]}").status_code == 200, 60)
            print(f"history: {leads} leads, {activities} activities, {args.campaigns} campaigns", flush=True)
            count, seconds = load(url, history(campaign_ids, leads, activities, workers))
            print(f"load (batch handler in-process, 1000 per batch): {count} events in {seconds:.1f} s, "
                  f"{count / seconds:.0f} events/s", flush=True)
            if state:
                (state / "loaded.json").write_text(json.dumps({"campaign_ids": campaign_ids, "events": count}))

        report_p99 = report_latency(stack, campaign_ids, args.requests)
        select_p99 = select_latency(url.replace("sqlite:///", ""), campaign_ids, args.requests)
        print(f"GET /reports/campaigns/{{id}} through the gateway: p99 {report_p99:.2f} ms "
              f"(bare SELECT by primary key p99 {select_p99:.3f} ms, ratio {report_p99 / select_p99:.0f}x)", flush=True)

        live_rate, bodies = live_projection(stack, amqp_uri, campaign_ids, args.live)
        ceiling = raw_consume(amqp_uri, bodies)
        print(f"live projection through the broker: {live_rate:.0f} events/s "
              f"(raw pika consume {ceiling:.0f} msgs/s, ratio {live_rate / ceiling:.2f})", flush=True)

        if args.no_rebuild:
            print(f"reports: p99 {report_p99:.1f} ms, projection {live_rate:.0f} events/s, rebuild not run")
            return
        from reporting.rebuild import rebuild
        result = rebuild(url)
        full = result["seconds"] * (FULL_LEADS * 1.12 + FULL_ACTIVITIES) / max(result["replayed"], 1)
        measured = result["seconds"] if args.scale >= 1 else full
        print(f"rebuild: {result['replayed']} events in {result['seconds']:.1f} s "
              f"({result['replayed'] / result['seconds']:.0f} events/s)"
              + ("" if args.scale >= 1 else f"; extrapolated to the full history: {full:.0f} s"), flush=True)
    print(f"reports: p99 {report_p99:.1f} ms, projection {live_rate:.0f} events/s, rebuild {measured:.0f} s")


if __name__ == "__main__":
    main()
