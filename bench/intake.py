"""bench/intake: 20 web clients post 2,000 registrations to POST /intake/{key}, form-encoded, each
from its own address (X-Forwarded-For through a trusted 127.0.0.1); then every lead_id answered
with 202 is looked for among the campaign's leads.

Last line: `intake: N posts/s, lost L, 5xx E` (N = 202 answers per second of the burst).
"""
import argparse
import threading
from collections import Counter

import common  # noqa: F401 - sets sys.path
import requests
from common import run_clients, running_stack, vhost

KEY = "bench-form"


def stored_lead_ids(api, campaign_id):
    ids, cursor = set(), None
    while True:
        params = {"campaign_id": campaign_id, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = api.ok("GET", "/leads", params=params)
        ids.update(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    limits = {"CRM_INTAKE_BURST": str(args.posts), "CRM_INTAKE_PER_MINUTE": str(60 * args.posts),
              "CRM_TRUSTED_PROXIES": "127.0.0.1"}

    with vhost() as amqp_uri, running_stack(amqp_uri, env=limits) as stack:
        api = stack.api
        campaign = api.ok("POST", "/campaigns", json={"name": "官网注册压测", "type": "web_registration"})
        api.ok("POST", "/intake-routes", json={"key": KEY, "campaign_id": campaign["id"], "pool_id": "P-web"})
        url = f"{stack.url}/api/v1/intake/{KEY}"
        outcomes, lead_ids, lock = Counter(), [], threading.Lock()

        def client(index):
            session = requests.Session()
            headers = {"X-Forwarded-For": f"198.18.{index // 250}.{index % 250 + 1}"}
            for n in range(index, args.posts, args.clients):
                form = {"name": f"客户 {n}", "mobile": f"139{n:08d}", "company": f"杭州某某公司 {n}", "city": "杭州",
                        "need": "想了解产品", "utm_source": "baidu", "utm_medium": "cpc", "utm_campaign": "bench",
                        "submit": "提交"}
                try:
                    response = session.post(url, data=form, headers=headers, timeout=60)
                except requests.RequestException:
                    outcome, lead_id = "connection", None
                else:
                    status = response.status_code
                    outcome = "202" if status == 202 else "5xx" if status >= 500 else "other"
                    lead_id = response.json()["lead_id"] if status == 202 else None
                with lock:
                    outcomes[outcome] += 1
                    if lead_id:
                        lead_ids.append(lead_id)
            session.close()

        elapsed = run_clients(client, args.clients)
        lost = len(set(lead_ids) - stored_lead_ids(api, campaign["id"]))

    rate = outcomes["202"] / elapsed
    print(f"{args.clients} clients posted {args.posts} forms in {elapsed:.1f}s: {outcomes['202']} × 202, "
          f"{outcomes['other']} other 4xx, {outcomes['5xx']} × 5xx, {outcomes['connection']} connection errors; "
          f"{len(lead_ids) - lost} of {len(lead_ids)} accepted leads found stored", flush=True)
    print(f"intake: {rate:.1f} posts/s, lost {lost}, 5xx {outcomes['5xx']}")


if __name__ == "__main__":
    main()
