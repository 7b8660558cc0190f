"""Campaigns through the gateway (C1, C2, C3, C7, C8), with real processes."""
import pytest

from tests.events import Subscriber
from tests.support import wait_for

pytestmark = pytest.mark.integration


def test_expenses_count_in_the_report_and_a_used_campaign_is_archived_not_destroyed_C3_C7_C8(make_stack):
    api = make_stack().api
    campaign = api.ok("POST", "/campaigns", json={"name": "广交会 2026", "type": "trade_show", "budget": "5000"})
    cid = campaign["id"]
    booth = api.ok("POST", f"/campaigns/{cid}/expenses", status=201,
                   json={"amount": "1200.50", "category": "展位费", "date": "2026-05-01", "note": "展位"})
    flyers = api.ok("POST", f"/campaigns/{cid}/expenses", json={"amount": 99.5, "category": "print"})
    assert booth["amount"] == "1200.50" and booth["category"] == "展位费" and flyers["amount"] == "99.50"
    for bad in ({"amount": "0", "category": "x"}, {"amount": "abc", "category": "x"}, {"category": "x"}):
        assert api.post(f"/campaigns/{cid}/expenses", json=bad).status_code == 422

    def cost():
        return api.ok("GET", f"/reports/campaigns/{cid}")["cost"]
    wait_for(lambda: api.get(f"/reports/campaigns/{cid}").status_code == 200 and cost()["expenses"] == "1300.00",
             message="both expenses in the report")
    assert api.request("DELETE", f"/campaigns/{cid}/expenses/{flyers['id']}").status_code == 204
    wait_for(lambda: cost()["expenses"] == "1200.50", message="the removed expense out of the report")
    assert [e["id"] for e in api.ok("GET", f"/campaigns/{cid}/expenses")["items"]] == [booth["id"]]
    assert len(api.ok("GET", f"/campaigns/{cid}/expenses", params={"include_removed": "true"})["items"]) == 2
    api.ok("POST", "/leads", json={"campaign_id": cid, "company": {"name": "某某公司"}})

    assert api.request("DELETE", f"/campaigns/{cid}").status_code == 204
    archived = api.ok("GET", f"/campaigns/{cid}")
    assert archived["archived"] is True and archived["archived_at"]
    assert cid not in [c["id"] for c in api.ok("GET", "/campaigns")["items"]]
    assert cid in [c["id"] for c in api.ok("GET", "/campaigns", params={"include_archived": "true"})["items"]]
    refused = api.post("/leads", json={"campaign_id": cid, "company": {"name": "too late"}})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    assert api.post(f"/campaigns/{cid}/expenses", json={"amount": "1", "category": "x"}).status_code == 409
    assert cost()["expenses"] == "1200.50"  # its costs keep counting (C7)


def test_an_empty_campaign_is_destroyed_and_takes_no_lead_afterwards_C8(make_stack):
    api = make_stack().api
    campaign = api.ok("POST", "/campaigns", json={"name": "Empty", "type": "email"})

    assert api.request("DELETE", f"/campaigns/{campaign['id']}").status_code == 204
    assert api.get(f"/campaigns/{campaign['id']}").status_code == 404
    assert api.request("DELETE", f"/campaigns/{campaign['id']}").status_code == 404
    # refused at once (the lead service closed it in the same call), then as unknown
    wait_for(lambda: api.post("/leads", json={"campaign_id": campaign["id"], "company": {"name": "x"}})
             .status_code == 422, message="a lead for a destroyed campaign refused as unknown")

    _, sales = api.user("li", roles=["sales_member"])
    other = api.ok("POST", "/campaigns", json={"name": "Mine", "type": "email"})
    assert sales.request("DELETE", f"/campaigns/{other['id']}").status_code == 404  # not theirs to see (C2)


# What each may do through the API: read, change a field, record an expense, change participants,
# attach a rule, delete. A user with no access is told the campaign does not exist (404).
MATRIX = {
    "owner": (200, 200, 201, 200, 200, 204),
    "manage": (200, 200, 201, 200, 200, 204),
    "edit": (200, 200, 201, 403, 200, 403),
    "view": (200, 403, 403, 403, 403, 403),
    "stranger": (404, 404, 404, 404, 404, 404),
    "admin": (200, 200, 201, 200, 200, 204),
}


def test_the_permission_matrix_through_the_gateway_C2(make_stack):
    stack = make_stack()
    admin = stack.api
    subscriber = Subscriber(stack.env["AMQP_URI"], "campaign.events", ("campaign.participants_changed",))
    people = {who: admin.user(f"{who}-c2", roles=["marketing_member", "sales_manager"]) for who in MATRIX
              if who != "admin"}
    people["admin"] = ({"id": "admin"}, admin)
    rule = admin.ok("POST", "/assignment-rules", json={
        "name": "all", "recipients": [{"user_id": people["edit"][0]["id"]}],
        "condition": {"field": "company.name", "op": "not_empty"}})
    grants = [{"user_id": people[who][0]["id"], "permission": who} for who in ("manage", "edit", "view")]

    for who, expected in MATRIX.items():
        client = people[who][1]
        campaign = people["owner"][1].ok("POST", "/campaigns", json={"name": f"展会 {who}", "type": "seminar"})
        cid = campaign["id"]
        assert campaign["owner_id"] == people["owner"][0]["id"]
        assert people["owner"][1].ok("PUT", f"/campaigns/{cid}/participants", json=grants)["items"] == sorted(
            grants, key=lambda g: g["user_id"])
        got = (
            client.get(f"/campaigns/{cid}").status_code,
            client.patch(f"/campaigns/{cid}", json={"description": f"说明 by {who}"}).status_code,
            client.post(f"/campaigns/{cid}/expenses", json={"amount": "10", "category": "x"}).status_code,
            client.put(f"/campaigns/{cid}/participants", json=grants).status_code,
            client.put(f"/campaigns/{cid}/rule", json={"rule_id": rule["id"]}).status_code,
            client.request("DELETE", f"/campaigns/{cid}").status_code,
        )
        assert got == expected, who
        if expected[0] == 404:
            body = client.get(f"/campaigns/{cid}").json()
            assert body["error"]["code"] == "not_found"
            assert cid not in [c["id"] for c in client.ok("GET", "/campaigns")["items"]]
            assert client.get(f"/reports/campaigns/{cid}").status_code == 404
        else:
            assert cid in [c["id"] for c in client.ok("GET", "/campaigns", params={"include_archived": "true"})["items"]]

    changed = subscriber.wait_for(lambda e: e["body"]["data"]["changes"]["added"])
    assert {p["user_id"] for p in changed[0]["body"]["data"]["participants"]} == {g["user_id"] for g in grants}
    subscriber.close()
    cid = admin.ok("POST", "/campaigns", json={"name": "x", "type": "email"})["id"]
    for bad in ([{"user_id": "nobody", "permission": "view"}], [{"user_id": people["view"][0]["id"], "permission": "own"}],
                {"user_id": people["view"][0]["id"], "permission": "view"}):
        assert admin.put(f"/campaigns/{cid}/participants", json=bad).status_code == 422


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_status_lifecycle_tree_and_filters_through_the_gateway_C1(make_stack, database):
    stack = make_stack(database=database)
    api = stack.api
    subscriber = Subscriber(stack.env["AMQP_URI"], "campaign.events", ("campaign.status_changed",))
    top = api.ok("POST", "/campaigns", json={"name": "2026 春季计划", "type": "other", "start_date": "2026-03-01",
                                             "end_date": "2026-05-31", "description": "全年主推"})
    wave = api.ok("POST", "/campaigns", json={"name": "Wave 1", "type": "email", "parent_id": top["id"],
                                              "start_date": "2026-06-01"})
    bad_dates = api.post("/campaigns", json={"name": "x", "type": "email", "start_date": "2026-02-02",
                                             "end_date": "2026-02-01"})
    assert bad_dates.status_code == 422 and "end_date" in bad_dates.json()["error"]["details"]

    cycle = api.patch(f"/campaigns/{top['id']}", json={"parent_id": wave["id"]})
    assert cycle.status_code == 422 and "parent_id" in cycle.json()["error"]["details"]
    assert api.ok("PATCH", f"/campaigns/{wave['id']}", json={"status": "active"})["status"] == "active"
    illegal = api.patch(f"/campaigns/{wave['id']}", json={"status": "planned"})
    assert illegal.status_code == 409 and illegal.json()["error"]["code"] == "conflict"
    moved = subscriber.wait_for(lambda e: e["body"]["data"]["id"] == wave["id"])
    assert moved[0]["body"]["data"]["changes"] == {"status": {"from": "planned", "to": "active"}}
    subscriber.close()

    def names(**params):
        return {c["name"] for c in api.ok("GET", "/campaigns", params=params)["items"]}
    assert names(date_from="2026-05-01", date_to="2026-05-31") == {"2026 春季计划"}
    assert names(date_from="2026-06-15") == {"Wave 1"}
    assert names(q="主推") == {"2026 春季计划"}
    assert names(q="%") == set()
    assert names(parent_id=top["id"]) == {"Wave 1"}
    assert names(status="active", type="email") == {"Wave 1"}
    assert api.get("/campaigns", params={"date_from": "not a date"}).status_code == 422
    assert api.get("/campaigns", params={"status": "running"}).status_code == 422
