"""POST /api/v1/intake/{key} in the gateway alone (C6): the app with a fake RPC pool, no broker.

What the gateway itself decides: content types, body size, flat fields, honeypot, rate limit,
client address, request key. The lead service's part is tested in services/lead.
"""
import pytest

from crmkit.errors import NotFound
from crmkit.migrations import upgrade
from gateway import MIGRATIONS
from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.ratelimit import parse_networks

URL = "/api/v1/intake/expo-2026"


class FakeRpc:
    def __init__(self):
        self.calls = []

    def call(self, service, method, *args, context=None, **kwargs):
        self.calls.append({"service": service, "method": method, "args": args, "kwargs": kwargs,
                           "context": context})
        if args and args[0] == "nope":
            raise NotFound("There is no form nope.")
        return {"lead_id": "L1"}


@pytest.fixture
def make_client(tmp_path):
    def make(burst=100, per_minute=60, trusted=""):
        url = f"sqlite:///{tmp_path / f'gateway-{burst}-{per_minute}.db'}"
        upgrade("gateway", url, MIGRATIONS)
        app = create_app(GatewaySettings(
            amqp_uri="amqp://unused", database_url=url, admin_token="t0k3n", rpc_timeout=1, rpc_pool_size=1,
            health_timeout=1, intake_burst=burst, intake_per_minute=per_minute,
            trusted_proxies=parse_networks(trusted)))
        rpc = app.extensions["crm_rpc"] = FakeRpc()
        client = app.test_client()
        client.rpc = rpc
        return client
    return make


@pytest.fixture
def client(make_client):
    return make_client()


def test_a_json_form_is_passed_on_flat_as_text_without_a_user_C6(client):
    response = client.post(URL, json={"name": "王芳", "mobile": 13800138000, "vip": True, "company": None},
                           headers={"X-Request-Id": "corr-1"})

    assert (response.status_code, response.get_json()) == (202, {"lead_id": "L1"})
    [call] = client.rpc.calls
    assert (call["method"], call["args"]) == ("intake", ("expo-2026", {"name": "王芳", "mobile": "13800138000",
                                                                     "vip": "true"}))
    assert call["kwargs"] == {"request_key": "intake:expo-2026:corr-1"}
    assert (call["context"].get("user_id"), call["context"]["channel"]) == (None, "web_form")


def test_form_encoded_and_multipart_posts_are_read_in_utf_8_C6(client):
    encoded = client.post(URL, data="name=%E7%8E%8B%E8%8A%B3&city=%E6%9D%AD%E5%B7%9E&submit=go",
                          content_type="application/x-www-form-urlencoded")
    multipart = client.post(URL, data={"name": "王芳", "need": "叉车"}, content_type="multipart/form-data")

    assert (encoded.status_code, multipart.status_code) == (202, 202)
    assert [c["args"][1] for c in client.rpc.calls] == [{"name": "王芳", "city": "杭州", "submit": "go"},
                                                       {"name": "王芳", "need": "叉车"}]


def test_an_idempotency_key_makes_the_request_key_C6(client):
    client.post(URL, json={"name": "Li"}, headers={"Idempotency-Key": "abc"})

    assert client.rpc.calls[0]["kwargs"] == {"request_key": "intake:expo-2026:abc"}


@pytest.mark.parametrize("field", ["website", "url", "hp"])
def test_a_filled_honeypot_is_answered_like_a_success_and_stores_nothing_C6(client, field):
    response = client.post(URL, data={"name": "bot", field: "http://spam.example"})

    assert response.status_code == 202
    assert len(response.get_json()["lead_id"]) == 32 and response.get_json()["lead_id"] != "L1"
    assert client.rpc.calls == []


def test_an_empty_honeypot_is_a_person_C6(client):
    assert client.post(URL, data={"name": "Li", "website": " "}).status_code == 202
    assert len(client.rpc.calls) == 1


@pytest.mark.parametrize("kwargs, status, code", [
    ({"data": "name=Li", "content_type": "text/plain"}, 415, "unsupported_media_type"),
    ({"data": "name=Li"}, 415, "unsupported_media_type"),
    ({"data": "{not json", "content_type": "application/json"}, 400, "bad_request"),
    ({"json": ["name", "Li"]}, 422, "validation_error"),
    ({"json": {"name": {"first": "Li"}}}, 422, "validation_error"),
    ({"json": {"name": "x" * 70000}}, 413, "too_large"),
    ({"data": {"name": "x" * 70000}}, 413, "too_large"),
], ids=["text", "no-type", "bad-json", "json-list", "nested", "json-too-large", "form-too-large"])
def test_a_body_the_intake_cannot_take_is_a_clear_4xx_C6(client, kwargs, status, code):
    response = client.post(URL, **kwargs)

    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert client.rpc.calls == []


def test_a_nested_field_is_named_C6(client):
    assert client.post(URL, json={"name": "Li", "tags": ["a"]}).get_json()["error"]["details"] == {
        "tags": "Must be text, a number or a boolean."}


def test_an_error_of_the_service_is_mapped_C6(client):
    response = client.post("/api/v1/intake/nope", json={"name": "Li"})

    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "not_found")


def test_past_the_burst_an_address_gets_429_with_retry_after_others_do_not_C6(make_client):
    client = make_client(burst=2, per_minute=1)

    statuses = [client.post(URL, json={"name": "Li"}).status_code for _ in range(3)]
    refused = client.post(URL, json={"name": "Li"})
    other = client.post(URL, json={"name": "Li"}, environ_base={"REMOTE_ADDR": "198.51.100.7"})

    assert statuses == [202, 202, 429]
    assert refused.headers["Retry-After"] == "60"
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert other.status_code == 202
    assert len(client.rpc.calls) == 3


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit_C6(make_client):
    client = make_client(burst=1, per_minute=1, trusted="127.0.0.1")

    def post(forwarded):
        return client.post(URL, json={"name": "Li"}, headers={"X-Forwarded-For": forwarded}).status_code

    assert [post("198.51.100.1"), post("198.51.100.2"), post("6.6.6.6, 198.51.100.1")] == [202, 202, 429]


def test_the_intake_is_public_but_its_routes_need_a_token_C6(client):
    assert client.post(URL, json={"name": "Li"}).status_code == 202
    assert client.get("/api/v1/intake-routes").status_code == 401
    assert client.post("/api/v1/intake-routes", json={"key": "abc", "campaign_id": "C1"}).status_code == 401


def test_routes_are_managed_by_marketing_roles_and_checked_at_the_edge_C6(client):
    admin = {"Authorization": "Bearer t0k3n"}

    created = client.post("/api/v1/intake-routes", json={"key": "expo-2026", "campaign_id": "C1"}, headers=admin)
    bad_key = client.post("/api/v1/intake-routes", json={"key": "a b", "campaign_id": "C1"}, headers=admin)
    unknown_owner = client.post("/api/v1/intake-routes", json={"key": "abc", "campaign_id": "C1", "owner_id": "x"},
                                headers=admin)
    patched = client.patch("/api/v1/intake-routes/expo-2026", json={"active": False}, headers=admin)

    assert (created.status_code, bad_key.status_code, unknown_owner.status_code) == (201, 422, 422)
    assert "key" in bad_key.get_json()["error"]["details"]
    assert patched.status_code == 200
    assert [(c["method"], c["args"]) for c in client.rpc.calls] == [
        ("create_intake_route", ({"key": "expo-2026", "campaign_id": "C1"},)),
        ("update_intake_route", ("expo-2026", {"active": False}))]


def test_the_public_endpoint_is_documented_without_security_C6(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/intake/{key}"]["post"]

    assert post["security"] == []
    assert "Honeypot" in post["description"]
    assert set(post["requestBody"]["content"]) == {"application/json", "application/x-www-form-urlencoded",
                                                   "multipart/form-data"}
