"""Work on leads through the gateway, with real processes (L10, L11, L12, C4, C7): effort logged on a
lead counts for its campaign even after the lead is deleted; a lead converts into opportunities
that end won or lost; and a plain pika subscriber hears all of it on lead.events."""
import pytest

from tests.events import Subscriber

pytestmark = pytest.mark.integration

KEYS = ("activity.#", "opportunity.#", "lead.converted", "lead.deleted")


def subscribe(stack):
    return Subscriber(stack.env["AMQP_URI"], "lead.events", KEYS)


def heard(subscriber, event_type, count=1):
    """The envelopes of event_type, once `count` of them have arrived."""
    subscriber.wait_for(lambda _: sum(e["routing_key"] == event_type for e in subscriber.events) >= count)
    return [e["body"] for e in subscriber.events if e["routing_key"] == event_type]


def test_deleting_a_lead_keeps_its_effort_in_the_campaign_which_is_then_archived_C4_C7(make_stack):
    stack = make_stack()
    api, subscriber = stack.api, subscribe(stack)
    try:
        owner, as_owner = api.user("work-owner", roles=["marketing_member"])
        sales, as_sales = api.user("work-sales", roles=["sales_member"])
        _, as_stranger = api.user("work-stranger", roles=["sales_member"])
        campaign = as_owner.ok("POST", "/campaigns", status=201, json={"name": "2026 上海工博会", "type": "trade_show"})
        lead = as_owner.ok("POST", "/leads", status=201, json={
            "campaign_id": campaign["id"], "contact": {"name": "王芳", "mobile": "13912345678"},
            "company": {"name": "上海明辉机械有限公司", "city": "上海"}})
        as_owner.ok("POST", f"/leads/{lead['id']}/assignments", status=201, json={"user_id": sales["id"]})

        meeting = as_owner.ok("POST", f"/leads/{lead['id']}/activities", status=201, json={
            "type": "meeting", "subject": "拜访客户，讨论数控机床方案", "effort_hours": 2})
        call = as_sales.ok("POST", f"/leads/{lead['id']}/activities", status=201, json={
            "type": "call", "subject": "电话跟进报价", "effort_hours": 0.5, "cost": "12.50",
            "outcome": "客户要求下周再联系", "occurred_at": "2026-03-02T10:00:00+08:00"})
        assert (meeting["worker_id"], meeting["campaign_id"], meeting["effort_hours"]) == \
            (owner["id"], campaign["id"], 2.0)
        assert (call["worker_id"], call["cost"], call["occurred_at"]) == (sales["id"], "12.50", "2026-03-02T02:00:00Z")
        assert meeting["subject"] == "拜访客户，讨论数控机床方案"

        too_long = as_sales.post(f"/leads/{lead['id']}/activities", json={
            "type": "visit", "subject": "通宵", "effort_hours": 25})
        assert (too_long.status_code, list(too_long.json()["error"]["details"])) == (422, ["effort_hours"])
        stranger = as_stranger.post(f"/leads/{lead['id']}/activities", json={
            "type": "call", "subject": "冒名", "effort_hours": 1})
        assert (stranger.status_code, stranger.json()["error"]["code"]) == (403, "forbidden")

        in_campaign = api.ok("GET", "/activities", params={"campaign_id": campaign["id"]})
        assert [a["id"] for a in in_campaign["items"]] == sorted([meeting["id"], call["id"]])
        assert in_campaign == api.ok("GET", f"/leads/{lead['id']}/activities")

        assert as_sales.request("DELETE", f"/leads/{lead['id']}").status_code == 403
        assert as_owner.request("DELETE", f"/leads/{lead['id']}").status_code == 204
        assert api.get(f"/leads/{lead['id']}").status_code == 404
        assert as_owner.request("DELETE", f"/leads/{lead['id']}").status_code == 404
        assert api.ok("GET", "/activities", params={"campaign_id": campaign["id"]}) == in_campaign  # C7

        assert as_owner.request("DELETE", f"/campaigns/{campaign['id']}").status_code == 204
        assert api.ok("GET", f"/campaigns/{campaign['id']}")["archived"] is True  # C8: it has effort

        logged = heard(subscriber, "activity.logged", 2)
        assert {(e["data"]["worker_id"], e["data"]["effort_hours"], e["data"]["campaign_id"]) for e in logged} == \
            {(owner["id"], 2.0, campaign["id"]), (sales["id"], 0.5, campaign["id"])}
        [deleted] = heard(subscriber, "lead.deleted")
        assert (deleted["data"]["id"], deleted["data"]["campaign_id"], deleted["data"]["activities"],
                deleted["data"]["effort_hours"]) == (lead["id"], campaign["id"], 2, 2.5)
        assert "王芳" not in str(deleted)
    finally:
        subscriber.close()


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_lead_converts_into_two_opportunities_one_won_one_lost_L10_L11(make_stack, database):
    stack = make_stack(database=database)
    api, subscriber = stack.api, subscribe(stack)
    try:
        campaign = api.ok("POST", "/campaigns", status=201, json={"name": "数控机床研讨会", "type": "seminar"})
        lead = api.ok("POST", "/leads", status=201, json={
            "campaign_id": campaign["id"], "pool_id": "P-east", "contact": {"name": "李雷"},
            "company": {"name": "杭州精工机械有限公司"}})

        result = api.ok("POST", f"/leads/{lead['id']}/convert", status=201, json={
            "opportunities": [{"name": "两台数控机床", "amount": "240000.00", "expected_close": "2026-06-30"},
                              {"name": "三年维保合同", "amount": 36000, "stage": "proposal"}]})
        assert set(result) == {"lead_id", "opportunity_ids", "account_id"} and len(result["opportunity_ids"]) == 2
        assert api.ok("GET", f"/leads/{lead['id']}")["status"] == "converted"
        again = api.post(f"/leads/{lead['id']}/convert", json={"opportunities": [{"name": "x", "amount": 1}]})
        assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")
        assert api.ok("GET", f"/accounts/{result['account_id']}")["name"] == "杭州精工机械有限公司"

        machines, service = result["opportunity_ids"]
        patched = api.ok("PATCH", f"/opportunities/{machines}", json={"stage": "negotiation", "probability": 80})
        assert (patched["stage"], patched["probability"], patched["expected_close"]) == \
            ("negotiation", 80, "2026-06-30")
        won = api.ok("POST", f"/opportunities/{machines}/won", json={"amount": "230000.50"})
        lost = api.ok("POST", f"/opportunities/{service}/lost", json={"reason": "客户预算取消"})
        assert (won["status"], won["won_amount"], won["amount"]) == ("won", "230000.50", "240000.00")
        assert (lost["status"], lost["lost_reason"]) == ("lost", "客户预算取消")
        assert api.patch(f"/opportunities/{machines}", json={"amount": 1}).status_code == 409
        assert api.post(f"/opportunities/{service}/lost", json={}).status_code == 422

        listed = api.ok("GET", "/opportunities", params={"campaign_id": campaign["id"]})["items"]
        assert {(o["id"], o["status"], o["lead_id"], o["pool_id"]) for o in listed} == \
            {(machines, "won", lead["id"], "P-east"), (service, "lost", lead["id"], "P-east")}
        assert [o["id"] for o in api.ok("GET", "/opportunities", params={"status": "won"})["items"]] == [machines]

        [converted] = heard(subscriber, "lead.converted")
        assert (converted["data"]["id"], converted["data"]["campaign_id"], converted["data"]["opportunity_ids"]) == \
            (lead["id"], campaign["id"], result["opportunity_ids"])
        created = heard(subscriber, "opportunity.created", 2)
        [won_event], [lost_event] = heard(subscriber, "opportunity.won"), heard(subscriber, "opportunity.lost")
        for event in (*created, won_event, lost_event):
            assert (event["data"]["campaign_id"], event["data"]["lead_id"]) == (campaign["id"], lead["id"])
        assert (won_event["data"]["won_amount"], lost_event["data"]["lost_reason"]) == ("230000.50", "客户预算取消")
    finally:
        subscriber.close()
