"""The gateway's own data publishes its changes (users for teams and rates, settings for the
conflict policy): change and event in one transaction, handed to the relay on commit (P2, L4, C4)."""
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

import gateway
from crmkit import envelope
from crmkit.context import RequestContext
from crmkit.errors import Conflict, NotFound
from crmkit.testing import migrated_sqlite
from gateway.db import UserStore, outbox

ADMIN = RequestContext(user_id="0" * 32, roles=("admin",), correlation_id="req-1")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return migrated_sqlite("gateway", gateway.MIGRATIONS, tmp_path_factory.mktemp("gateway-schema"))


@pytest.fixture
def store(template, tmp_path):
    path = tmp_path / "gateway.db"
    path.write_bytes(template.read_bytes())
    handed = []
    store = UserStore(f"sqlite:///{path}", on_commit=handed.extend)
    store.handed = handed
    return store


def stored_events(store):
    with store.engine.connect() as conn:
        payloads = conn.execute(select(outbox.c.payload).order_by(outbox.c.id)).scalars().all()
    return [envelope.parse(p) for p in payloads]


def test_a_new_user_is_published_as_user_created_in_the_same_commit_L4_C4(store):
    user = store.create({"username": "li.lei", "name": "李雷", "roles": ["sales_member"], "team": "华东",
                         "hourly_rate": "120.00"}, ADMIN)

    [event] = stored_events(store)
    assert event["type"] == "user.created" and event["actor_id"] == ADMIN.user_id
    assert event["data"] == user and user["team"] == "华东" and user["hourly_rate"] == "120.00"
    assert [row["event_id"] for row in store.handed] == [event["event_id"]]  # handed to the relay
    assert json.loads(store.handed[0]["payload"])["data"]["name"] == "李雷"


def test_a_taken_username_is_a_conflict_and_publishes_nothing(store):
    store.create({"username": "li.lei"}, ADMIN)

    with pytest.raises(Conflict):
        store.create({"username": "li.lei"}, ADMIN)

    assert [e["type"] for e in stored_events(store)] == ["user.created"]


def test_a_user_change_is_published_with_what_changed_and_a_no_op_publishes_nothing(store):
    user = store.create({"username": "han.mei", "team": "east", "roles": ["sales_member"]}, ADMIN)

    changed = store.update(user["id"], {"team": "west", "hourly_rate": "80", "roles": ["sales_manager"]}, ADMIN)
    store.update(user["id"], {"team": "west"}, ADMIN)

    events = stored_events(store)
    assert [e["type"] for e in events] == ["user.created", "user.updated"]
    assert events[1]["data"]["changes"] == {"team": {"from": "east", "to": "west"},
                                            "hourly_rate": {"from": None, "to": "80.00"},
                                            "roles": {"from": ["sales_member"], "to": ["sales_manager"]}}
    assert changed["team"] == "west"
    with pytest.raises(NotFound):
        store.update("nobody", {"team": "x"}, ADMIN)


def test_a_switched_off_user_has_no_working_token(store):
    user = store.create({"username": "gone"}, ADMIN)
    token = store.issue_token(user["id"])
    assert store.by_token(token)["id"] == user["id"]

    store.update(user["id"], {"active": False}, ADMIN)

    assert store.by_token(token) is None


def test_settings_have_defaults_and_a_change_is_published_once_L4(store):
    assert store.settings() == {"permission_conflict_policy": "assignment_wins", "default_hourly_rate": "0.00"}

    store.update_settings({"permission_conflict_policy": "most_restrictive"}, ADMIN)
    store.update_settings({"permission_conflict_policy": "most_restrictive", "default_hourly_rate": Decimal("95")}, ADMIN)

    assert store.settings() == {"permission_conflict_policy": "most_restrictive", "default_hourly_rate": "95.00"}
    events = [e for e in stored_events(store) if e["type"] == "settings.updated"]
    assert [e["data"]["changes"] for e in events] == [
        {"permission_conflict_policy": {"from": "assignment_wins", "to": "most_restrictive"}},
        {"default_hourly_rate": {"from": "0.00", "to": "95.00"}}]
