"""Users and settings through the gateway; their changes reach a plain pika subscriber (P2, L4, C4)."""
import pytest

from tests.events import Subscriber

pytestmark = pytest.mark.integration


def test_users_and_settings_change_through_the_api_and_are_published_on_gateway_events(make_stack):
    stack = make_stack()
    api = stack.api
    subscriber = Subscriber(stack.env["AMQP_URI"], "gateway.events", ("user.#", "settings.#"))
    user, client = api.user("wang.fang", roles=["sales_member"], team="华东", hourly_rate="100")

    changed = api.ok("PATCH", f"/users/{user['id']}", json={"team": "华南", "hourly_rate": 120})
    assert (changed["team"], changed["hourly_rate"]) == ("华南", "120.00")
    assert client.patch(f"/users/{user['id']}", json={"team": "x"}).status_code == 403
    assert api.patch(f"/users/{user['id']}", json={"roles": ["boss"]}).status_code == 422
    assert api.patch("/users/nobody", json={"team": "x"}).status_code == 404

    assert api.ok("GET", "/settings")["permission_conflict_policy"] == "assignment_wins"
    assert client.patch("/settings", json={"permission_conflict_policy": "role_wins"}).status_code == 403
    assert api.patch("/settings", json={"permission_conflict_policy": "loudest_wins"}).status_code == 422
    settings = api.ok("PATCH", "/settings", json={"permission_conflict_policy": "role_wins",
                                                  "default_hourly_rate": "88.5"})
    assert settings == {"permission_conflict_policy": "role_wins", "default_hourly_rate": "88.50"}
    assert client.ok("GET", "/settings") == settings

    events = subscriber.wait_for(lambda e: e["routing_key"] == "settings.updated")
    types = [e["routing_key"] for e in subscriber.events]
    assert types[:3] == ["user.created", "user.updated", "settings.updated"]
    created = subscriber.events[0]["body"]
    assert created["data"]["team"] == "华东" and created["data"]["id"] == user["id"]
    assert subscriber.events[1]["body"]["data"]["changes"]["team"] == {"from": "华东", "to": "华南"}
    assert events[0]["body"]["data"]["default_hourly_rate"] == "88.50"

    api.ok("PATCH", f"/users/{user['id']}", json={"active": False})
    assert client.get("/users/me").status_code == 401
    assert api.patch(f"/users/{'0' * 32}", json={"active": False}).status_code == 409
    subscriber.close()
