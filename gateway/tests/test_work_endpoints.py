"""Activities, conversion, opportunities and lead deletion in the gateway alone (a fake RPC pool, no
broker): what reaches the lead service (money as strings, dates as ISO text) and bad input → 4xx."""
import json

import pytest

from crmkit.errors import Conflict
from crmkit.migrations import upgrade
from gateway import MIGRATIONS
from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.rpc import to_wire

AUTH = {"Authorization": "Bearer t0k3n"}
MEETING = {"type": "meeting", "subject": "技术交流", "effort_hours": 2.5}


class FakeRpc:
    def __init__(self):
        self.calls = []

    def call(self, service, method, *args, context=None, **kwargs):
        self.calls.append((method, tuple(json.loads(json.dumps(args, default=to_wire)))))  # as on the wire
        if args and args[0] == "closed":
            raise Conflict("The opportunity is won; it changes no more.")
        return {"items": [], "next_cursor": None} if method.startswith("list_") else {"id": "X"}


@pytest.fixture
def client(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade("gateway", url, MIGRATIONS)
    app = create_app(GatewaySettings(amqp_uri="amqp://unused", database_url=url, admin_token="t0k3n",
                                     rpc_timeout=1, rpc_pool_size=1, health_timeout=1))
    client = app.test_client()
    client.rpc = app.extensions["crm_rpc"] = FakeRpc()
    return client


def test_money_and_dates_reach_the_lead_service_as_text(client):
    logged = client.post("/api/v1/leads/L1/activities", headers=AUTH, json={
        **MEETING, "cost": 35.5, "occurred_at": "2024-05-01T09:30:00+08:00"})
    converted = client.post("/api/v1/leads/L1/convert", headers=AUTH, json={
        "opportunities": [{"name": "机床", "amount": "120000", "expected_close": "2024-09-30"}], "account": None})
    won = client.post("/api/v1/opportunities/O1/won", headers=AUTH)
    deleted = client.delete("/api/v1/leads/L1", headers=AUTH)

    assert [r.status_code for r in (logged, converted, won, deleted)] == [201, 201, 200, 204]
    (_, log_args), (_, convert_args), won_call, delete_call = client.rpc.calls
    assert log_args[1] == {**MEETING, "effort_hours": "2.50", "cost": "35.50",
                           "occurred_at": "2024-05-01T09:30:00+08:00"}
    assert convert_args[1] == {"opportunities": [{"name": "机床", "amount": "120000.00",
                                                  "expected_close": "2024-09-30"}], "account": None}
    assert won_call == ("win_opportunity", ("O1", {}))
    assert delete_call == ("delete_lead", ("L1",))


def test_lists_pass_their_filters_and_page(client):
    assert client.get("/api/v1/activities?campaign_id=C1&limit=5", headers=AUTH).status_code == 200
    assert client.get("/api/v1/opportunities?status=won", headers=AUTH).status_code == 200
    assert client.get("/api/v1/leads/L1/activities?cursor=abc", headers=AUTH).status_code == 200
    assert client.rpc.calls == [("list_activities", ({"campaign_id": "C1"}, 5, None)),
                                ("list_opportunities", ({"status": "won"}, None, None)),
                                ("list_lead_activities", ("L1", None, "abc"))]


@pytest.mark.parametrize("path, body, field", [
    ("/leads/L1/activities", {**MEETING, "effort_hours": 25}, "effort_hours"),
    ("/leads/L1/activities", {**MEETING, "effort_hours": 0}, "effort_hours"),
    ("/leads/L1/activities", {**MEETING, "effort_hours": "lots"}, "effort_hours"),
    ("/leads/L1/activities", {**MEETING, "cost": 1e400}, "cost"),
    ("/leads/L1/activities", {**MEETING, "cost": 10 ** 40}, "cost"),
    ("/leads/L1/activities", {**MEETING, "cost": True}, "cost"),
    ("/leads/L1/activities", {**MEETING, "occurred_at": "2024-02-30T10:00:00Z"}, "occurred_at"),
    ("/leads/L1/activities", {**MEETING, "type": "party"}, "type"),
    ("/leads/L1/activities", {**MEETING, "subject": "长" * 201}, "subject"),
    ("/leads/L1/convert", {"opportunities": []}, "opportunities"),
    ("/leads/L1/convert", {"opportunities": [{"name": "x", "amount": -1}]}, "opportunities.0.amount"),
    ("/leads/L1/convert", {"opportunities": [{"name": "x", "amount": 1, "probability": "high"}]},
     "opportunities.0.probability"),
    ("/leads/L1/convert", {"opportunities": [{"name": "x", "amount": 1, "expected_close": "soon"}]},
     "opportunities.0.expected_close"),
    ("/opportunities/O1/lost", {}, "reason"),
    ("/opportunities/O1/won", {"amount": "NaN"}, "amount"),
    ("/opportunities/O1/won", {"amount": 1, "currency": "CNY"}, "currency"),
], ids=["effort-over-24", "no-effort", "effort-text", "infinite-cost", "huge-cost", "cost-bool", "no-such-day",
        "type", "long-subject", "no-opportunities", "negative-amount", "probability-text", "date-text",
        "lost-without-reason", "nan-amount", "unknown-field"])
def test_bad_input_is_422_with_the_fields_path_and_never_reaches_the_service(client, path, body, field):
    response = client.post("/api/v1" + path, headers=AUTH, json=body)

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]
    assert client.rpc.calls == []


def test_a_bad_patch_query_or_body_is_4xx_not_500(client):
    assert client.patch("/api/v1/opportunities/O1", headers=AUTH, json={"probability": 50.5}).status_code == 422
    assert client.patch("/api/v1/opportunities/O1", headers=AUTH, json={"status": "won"}).status_code == 422
    assert client.get("/api/v1/opportunities?status=maybe", headers=AUTH).status_code == 422
    assert client.get("/api/v1/activities?limit=0", headers=AUTH).status_code == 422
    assert client.post("/api/v1/leads/L1/convert", headers={**AUTH, "Content-Type": "application/json"},
                       data="{not json").status_code == 400
    assert client.rpc.calls == []


def test_a_closed_opportunity_answers_409_and_no_token_401(client):
    response = client.patch("/api/v1/opportunities/closed", headers=AUTH, json={"amount": "5"})

    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "conflict")
    assert client.delete("/api/v1/leads/L1").status_code == 401
    assert client.get("/api/v1/activities").status_code == 401
