"""A whole campaign through the gateway, with real processes (R1–R6, C4, C5, C7): expenses, effort by
two people with different hourly rates, a deleted lead with effort, a lead converted into two
opportunities (one won, one lost) — the report matches hand-computed figures to the cent, and the
same after a rebuild from the events reporting kept."""
import pytest

from tests.support import wait_for

pytestmark = pytest.mark.integration

# Hand-computed:
#   effort  A (120/h): 2 h + 1 h = 3 h → 360.00;  B (80/h): 1.5 h + 3 h = 4.5 h → 360.00;  7.5 h → 720.00
#   expenses  1200.50 (entry) + 12.50 (an activity's cost) = 1213.00;  total cost 1933.00
#   won 230000.50;  roi (230000.50 − 1933.00) / 1933.00 = 117.9863;  one lead left (converted), one deleted
COST = {"budget": "10000.00", "expenses": "1213.00", "expense_entries": "1200.50", "activity_costs": "12.50",
        "effort_hours": 7.5, "effort_cost": "720.00", "total": "1933.00", "budget_used": 0.1933}


def lead(api, campaign_id, name):
    return api.ok("POST", "/leads", status=201, json={"campaign_id": campaign_id, "contact": {"name": name},
                                                      "company": {"name": f"{name}的公司"}})


def test_a_whole_campaign_is_reported_to_the_cent_and_again_after_a_rebuild_R1_R6_C4_C7(make_stack):
    api = make_stack().api
    api.ok("PATCH", "/settings", json={"default_hourly_rate": 50})
    a, as_a = api.user("report-a", roles=["marketing_director"], hourly_rate=120)
    b, as_b = api.user("report-b", roles=["sales_member"], hourly_rate="80.00")
    campaign = as_a.ok("POST", "/campaigns", status=201, json={
        "name": "华东区数控机床巡展", "type": "trade_show", "budget": "10000", "expected_revenue": "50000.00"})
    cid = campaign["id"]
    api.ok("POST", f"/campaigns/{cid}/expenses", status=201, json={"amount": "1200.50", "category": "展位费"})

    kept, dropped = lead(api, cid, "王芳"), lead(api, cid, "李雷")
    for one in (kept, dropped):
        api.ok("POST", f"/leads/{one['id']}/assignments", status=201, json={"user_id": b["id"]})
    as_a.ok("POST", f"/leads/{kept['id']}/activities", status=201,
            json={"type": "meeting", "subject": "方案交流", "effort_hours": 2, "cost": "12.50"})
    as_b.ok("POST", f"/leads/{kept['id']}/activities", status=201,
            json={"type": "call", "subject": "电话跟进", "effort_hours": 1.5})
    as_b.ok("POST", f"/leads/{dropped['id']}/activities", status=201,
            json={"type": "visit", "subject": "上门拜访", "effort_hours": 3})
    as_a.ok("POST", f"/leads/{dropped['id']}/activities", status=201,
            json={"type": "email", "subject": "资料", "effort_hours": 1})
    assert api.request("DELETE", f"/leads/{dropped['id']}").status_code == 204  # C7: its effort stays

    api.ok("POST", f"/leads/{kept['id']}/status", json={"status": "usable"})
    api.ok("POST", f"/leads/{kept['id']}/responses", json={"response": "accepted"})
    converted = api.ok("POST", f"/leads/{kept['id']}/convert", status=201, json={
        "opportunities": [{"name": "两台数控机床", "amount": "240000.00"}, {"name": "维保合同", "amount": 36000}]})
    machines, service = converted["opportunity_ids"]
    api.ok("POST", f"/opportunities/{machines}/won", json={"amount": "230000.50"})
    api.ok("POST", f"/opportunities/{service}/lost", json={"reason": "预算取消"})

    def settled():
        response = api.get(f"/reports/campaigns/{cid}")
        report = response.status_code == 200 and response.json()
        return report and report["opportunities"]["lost"] == 1 and report["cost"] == COST and \
            report["leads"]["deleted"] == 1 and report["responses"]["accepted"] == 1 and report
    report = wait_for(settled, 30, message="the whole campaign in the report")

    assert report["leads"]["total"] == 1 and report["leads"]["by_status"] == {"converted": 1}
    assert report["opportunities"] == {"open": 0, "won": 1, "lost": 1, "pipeline": "0.00"}
    assert report["revenue"] == {"expected": "50000.00", "won": "230000.50", "won_vs_expected": 4.6}
    assert (report["roi"], report["cost_per_lead"], report["cost_per_won"], report["conversion_rate"]) == \
        (117.9863, "1933.00", "1933.00", 1.0)

    people = {p["user_id"]: p for p in api.ok("GET", "/reports/sales", params={"campaign_id": cid})["items"]}
    assert (people[a["id"]]["effort_cost"], people[b["id"]]["effort_cost"]) == ("360.00", "360.00")
    assert people[b["id"]]["leads_assigned"] == 1
    funnel = api.ok("GET", "/reports/funnel", params={"campaign_id": cid})
    assert [s["count"] for s in funnel["stages"]] == [1, 1, 1, 1]
    listed = api.ok("GET", "/reports/campaigns", params={"sort": "-won"})["items"]
    assert listed[0]["campaign_id"] == cid and listed[0]["roi"] == 117.9863
    csv = api.get(f"/reports/campaigns/{cid}.csv")
    assert csv.headers["Content-Type"].startswith("text/csv") and csv.content.startswith(b"\xef\xbb\xbfmetric,value")
    assert "name,华东区数控机床巡展" in csv.content.decode("utf-8-sig")

    assert as_b.post("/ops/rebuild-reports").status_code == 403
    rebuilt = api.ok("POST", "/ops/rebuild-reports")
    assert rebuilt["replayed"] >= 20
    assert api.ok("GET", f"/reports/campaigns/{cid}") == report

    for path, status in (("/reports/campaigns?sort=colour", 422), ("/reports/campaigns?limit=0", 422),
                         ("/reports/campaigns?cursor=x", 422), ("/reports/campaigns/nope", 404),
                         ("/reports/campaigns/nope.csv", 404)):
        response = api.get(path)
        assert (response.status_code, "error" in response.json()) == (status, True), path
    assert as_b.get("/reports/campaigns").status_code == 403
    metrics = api.session.get(api.base.replace("/api/v1", "") + "/metrics").text
    assert 'crm_gateway_requests_total{method="GET",endpoint="reports.campaign_report",status="200"}' in metrics
    assert 'crm_service_up{service="reporting"} 1' in metrics
