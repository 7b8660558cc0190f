"""Steps of the foundation slice, shared by the integration tests."""
from tests.support import wait_for


def campaign_with_rule(api, city="Shanghai", recipients=1, distribution="all"):
    """A campaign whose rule gives leads in `city` to `recipients` new sales people."""
    sales = [api.user(f"sales{i}-{id(api) % 10000}-{city}", team="east")[0] for i in range(recipients)]
    campaign = api.ok("POST", "/campaigns", json={"name": "上海车展 2026", "type": "trade_show",
                                                  "budget": "10000.00", "expected_revenue": "50000"})
    rule = api.ok("POST", "/assignment-rules", json={
        "name": f"{city} leads", "distribution": distribution,
        "recipients": [{"user_id": s["id"], "permissions": {"contact": "edit", "company": "edit",
                                                             "need": "read"}} for s in sales],
        "condition": {"field": "company.city", "op": "eq", "value": city}})
    api.ok("PUT", f"/campaigns/{campaign['id']}/rule", json={"rule_id": rule["id"]})
    return campaign, rule, sales


def new_lead(api, campaign_id, n=0, city=" ShangHai "):
    return api.ok("POST", "/leads", status=201, json={
        "campaign_id": campaign_id,
        "contact": {"name": f"李雷 {n}", "phone": "021-62991640", "email": f"li{n}@example.cn"},
        "company": {"name": f"上海某某科技有限公司 {n}", "city": city}})


def assignees_of(api, lead_id):
    return api.ok("GET", f"/leads/{lead_id}")["assignees"]


def wait_assigned(api, lead_id, timeout=20):
    return wait_for(lambda: assignees_of(api, lead_id), timeout, message=f"lead {lead_id} assigned")


def wait_report_total(api, campaign_id, total, timeout=30):
    def check():
        response = api.get(f"/reports/campaigns/{campaign_id}")
        return response.status_code == 200 and response.json()["leads"]["total"] == total and response.json()
    return wait_for(check, timeout, message=f"report total {total}")
