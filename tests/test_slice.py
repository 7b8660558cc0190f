"""The foundation slice through the gateway, against real processes, RabbitMQ and databases.

campaign → lead (L1) → lead.created → the campaign's rule (A6) assigns through the lead
service → the reporting service counts the lead (R1, R2).
"""
import pytest

from tests.events import Subscriber
from tests.scenario import campaign_with_rule, new_lead, wait_assigned, wait_report_total
from tests.support import wait_for

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_new_lead_is_assigned_by_the_campaign_rule_and_counted_in_the_report(make_stack, database):
    stack = make_stack(database)
    api = stack.api
    subscriber = Subscriber(stack.env["AMQP_URI"], "lead.events", ("lead.#",))
    try:
        campaign, rule, (sales,) = campaign_with_rule(api)
        lead = new_lead(api, campaign["id"])
        assert lead["status"] == "raw" and lead["owner_id"] == api.ok("GET", "/users/me")["id"]
        assert lead["company"]["name"] == "上海某某科技有限公司 0"  # UTF-8 end to end

        assignees = wait_assigned(api, lead["id"])
        assert assignees == [{"user_id": sales["id"],
                              "permissions": {"contact": "edit", "company": "edit", "need": "read"}}]
        report = wait_report_total(api, campaign["id"], 1)
        assert report["leads"]["by_status"] == {"raw": 1}
        assert report["revenue"]["expected"] == "50000.00" and report["cost"]["budget"] == "10000.00"

        log = api.ok("GET", f"/leads/{lead['id']}/assignment-log")["items"]
        assert [(d["rule_id"], d["matched"]) for d in log] == [(rule["id"], True)]
        history = api.ok("GET", f"/leads/{lead['id']}/history")["items"]
        assert [(h["action"], h["channel"]) for h in history] == [("created", "api"), ("assigned", "rule")]
        admin_id = api.ok("GET", "/users/me")["id"]
        assert {h["actor_id"] for h in history} == {admin_id}  # the acting user flows everywhere

        # P2: a plain pika client bound to lead.events with lead.# receives the envelopes.
        created = subscriber.wait_for(lambda e: e["routing_key"] == "lead.created")[0]
        body = created["body"]
        assert {"event_id", "type", "version", "occurred_at", "actor_id", "correlation_id",
                "causation_id", "data"} <= set(body)
        assert body["type"] == "lead.created" and body["actor_id"] == admin_id
        assert body["data"]["id"] == lead["id"] and body["data"]["campaign_id"] == campaign["id"]
        assert body["data"]["contact"]["name"] == "李雷 0"
        assert created["properties"].delivery_mode == 2  # persistent
        assigned = subscriber.wait_for(lambda e: e["routing_key"] == "lead.assigned")[0]["body"]
        assert assigned["actor_id"] == admin_id and assigned["correlation_id"] == body["correlation_id"]

        # A8: a lead the rule does not match stays with its owner, flagged unassigned: a filter, a count
        elsewhere = new_lead(api, campaign["id"], n=1, city="Beijing")
        wait_for(lambda: [d["matched"] for d in api.ok("GET", f"/leads/{elsewhere['id']}/assignment-log")["items"]]
                 == [False], message="the rule's decision not to take the Beijing lead")
        assert [l["id"] for l in api.ok("GET", "/leads", params={"unassigned": "true"})["items"]] == [elsewhere["id"]]
        report = wait_report_total(api, campaign["id"], 2)
        assert (report["leads"]["assigned"], report["leads"]["unassigned"]) == (1, 1)
    finally:
        subscriber.close()


def test_a_lead_without_contact_or_company_name_is_refused_with_field_paths_L1(make_stack):
    api = make_stack().api
    response = api.post("/leads", json={"contact": {"email": "a@b.cn"}, "need": {"description": "x"}})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"contact.name", "company.name"}

    response = api.post("/leads", json={"contact": {"name": "x", "email": "not-an-email"}})
    assert response.status_code == 422 and "contact.email" in response.json()["error"]["details"]

    response = api.post("/leads", json={"contact": {"name": "x"}, "campaign_id": "nope"})
    assert response.status_code == 422 and "campaign_id" in response.json()["error"]["details"]
    assert api.ok("GET", "/leads")["items"] == []  # nothing half-written


def test_the_gateway_speaks_the_error_format_and_never_500s_on_bad_input_P3(make_stack):
    stack = make_stack()
    api = stack.api

    def error(response, status):
        assert response.status_code == status, response.text
        body = response.json()["error"]
        assert set(body) == {"code", "message", "details"} and body["message"]
        return body

    anonymous = api.as_user(None)
    assert error(anonymous.get("/leads"), 401)["code"] == "unauthorized"
    assert error(api.as_user("wrong").get("/leads"), 401)["code"] == "unauthorized"
    _, sales = api.user("zhang", roles=["sales_member"])
    assert error(sales.post("/users", json={"username": "x"}), 403)["code"] == "forbidden"
    assert error(api.post("/leads", data=b"{not json", headers={"Content-Type": "application/json"}),
                 400)["code"] == "bad_request"
    assert error(api.post("/leads", data=b"[" + b"1," * 600_000 + b"1]",
                          headers={"Content-Type": "application/json"}), 413)["code"] == "too_large"
    assert error(api.get("/leads/does-not-exist"), 404)["code"] == "not_found"
    assert error(api.get("/no/such/route"), 404)["code"] == "not_found"
    assert error(api.post("/leads", json={"contact": {"name": "x" * 201}}), 422)["details"] == {
        "contact.name": "Longer than maximum length 200."}
    assert error(api.post("/leads", json={"contact": {"name": "x"}, "surprise": 1}), 422)["details"] == {
        "surprise": "Unknown field."}
    assert error(api.post("/campaigns", json={"name": "c", "type": "party"}), 422)["details"]["type"]
    assert error(api.get("/leads", params={"limit": "0"}), 422)["details"]["limit"]
    assert error(api.get("/leads", params={"cursor": "%%%"}), 422)["details"]["cursor"]
    assert error(api.put("/campaigns/nope/rule", json={"rule_id": "nope"}), 404)

    # Public without a token: health, the OpenAPI spec and the docs page.
    assert anonymous.get("/health").json()["status"] == "ok"
    spec = anonymous.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/api/v1/leads" in spec["paths"]
    assert anonymous.get("/docs").status_code == 200


def test_lists_page_with_a_cursor(make_stack):
    api = make_stack().api
    ids = [api.ok("POST", "/leads", json={"company": {"name": f"公司 {i}"}})["id"] for i in range(5)]
    first = api.ok("GET", "/leads", params={"limit": 2})
    second = api.ok("GET", "/leads", params={"limit": 2, "cursor": first["next_cursor"]})
    third = api.ok("GET", "/leads", params={"limit": 2, "cursor": second["next_cursor"]})
    seen = [lead["id"] for page in (first, second, third) for lead in page["items"]]
    assert seen == list(reversed(ids)) and third["next_cursor"] is None
