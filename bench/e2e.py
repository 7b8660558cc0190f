"""bench/e2e: 8 clients post 5,000 leads through the gateway; leads/s until every lead is
stored, assigned by the campaign's rule and counted in the report.

Last line: `e2e: N leads/s (raw RPC M calls/s, ratio R)`.
"""
import argparse
import http.client
import json
import time

import common  # noqa: F401 - sets sys.path
import requests
from common import run_clients, running_stack, vhost, wait_until
from raw_rpc import measure


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--replicas", type=int, default=1, help="processes per service")
    parser.add_argument("--gateway-workers", type=int, default=1, help="gunicorn processes")
    parser.add_argument("--gateway-threads", type=int, default=16, help="threads per gunicorn process")
    parser.add_argument("--database", choices=["sqlite"], default="sqlite")
    args = parser.parse_args()

    with vhost() as amqp_uri:
        raw = measure(amqp_uri)
        print(f"raw RPC (pika, one caller): {raw:.0f} calls/s", flush=True)
        replicas = {s: args.replicas for s in ("campaign", "lead", "assignment", "reporting")}
        with running_stack(amqp_uri, replicas=replicas, gateway_workers=args.gateway_workers,
                           gateway_threads=args.gateway_threads) as stack:
            api = stack.api
            sales, _ = api.user("bench-sales", roles=["sales_member"])
            campaign = api.ok("POST", "/campaigns", json={"name": "性能测试", "type": "trade_show"})
            rule = api.ok("POST", "/assignment-rules", json={
                "name": "Shanghai", "recipients": [{"user_id": sales["id"]}],
                "condition": {"field": "company.city", "op": "eq", "value": "Shanghai"}})
            api.ok("PUT", f"/campaigns/{campaign['id']}/rule", json={"rule_id": rule["id"]})
            headers = {"Authorization": "Bearer bench-token"}
            failures = []

            def client(index):
                # http.client keep-alive: the clients share the 2 cores with what they measure,
                # and `requests` cost them twice as much CPU per POST.
                connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)
                post_headers = {**headers, "Content-Type": "application/json"}
                for n in range(index, args.leads, args.clients):
                    body = json.dumps({
                        "campaign_id": campaign["id"], "contact": {"name": f"客户 {n}", "mobile": f"139{n:08d}"},
                        "company": {"name": f"公司 {n}", "city": "Shanghai"}}, ensure_ascii=False).encode()
                    connection.request("POST", "/api/v1/leads", body=body, headers=post_headers)
                    response = connection.getresponse()
                    response.read()
                    if response.status != 201:
                        failures.append(response.status)
                connection.close()

            start = time.monotonic()
            posted = run_clients(client, args.clients)
            report_url = f"{stack.url}/api/v1/reports/campaigns/{campaign['id']}"

            def done():
                report = requests.get(report_url, headers=headers).json()
                return report["leads"]["total"] == args.leads and report["leads"]["assigned"] == args.leads

            if failures or not wait_until(done, timeout=300, interval=0.1):
                raise SystemExit(f"failed: {len(failures)} non-201 answers {set(failures)}; "
                                 f"report {requests.get(report_url, headers=headers).json()['leads']}")
            elapsed = time.monotonic() - start
            rate = args.leads / elapsed
            print(f"posted {args.leads} leads in {posted:.1f}s ({args.leads / posted:.0f}/s accepted); "
                  f"all stored, assigned and counted after {elapsed:.1f}s", flush=True)
    print(f"e2e: {rate:.0f} leads/s (raw RPC {raw:.0f} calls/s, ratio {rate / raw:.2f})")


if __name__ == "__main__":
    main()
