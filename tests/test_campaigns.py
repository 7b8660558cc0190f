"""Campaign costs and deletes through the gateway (C3, C7, C8), with real processes."""
import pytest

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
    assert sales.request("DELETE", f"/campaigns/{other['id']}").status_code == 403
