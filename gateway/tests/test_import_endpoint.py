"""POST /api/v1/leads/import and GET /api/v1/imports/{id} in the gateway alone (L13), with a fake RPC pool:
who may import, the multipart body, the 50 MiB limit of this endpoint, and the file sent on in parts."""
import base64
import io

import pytest

from crmkit.errors import Invalid
from crmkit.migrations import upgrade
from gateway import MIGRATIONS
from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.resources import imports

URL = "/api/v1/leads/import"


class FakeRpc:
    def __init__(self):
        self.calls = []

    def call(self, service, method, *args, context=None, **kwargs):
        self.calls.append((method, args))
        if method == "create_import":
            return {"job_id": "J1"}
        if method == "submit_import" and self.refuse:
            raise Invalid("No column of the file could be matched to a lead field; send a mapping.",
                          {"file": "Headers found: foo."})
        return {"job_id": args[0], "status": "queued"}


@pytest.fixture
def client(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade("gateway", url, MIGRATIONS)
    app = create_app(GatewaySettings(
        amqp_uri="amqp://unused", database_url=url, admin_token="t0k3n", rpc_timeout=1, rpc_pool_size=1,
        health_timeout=1, intake_burst=10, intake_per_minute=10, trusted_proxies=()))
    rpc = app.extensions["crm_rpc"] = FakeRpc()
    rpc.refuse = False
    client = app.test_client()
    client.rpc = rpc
    return client


def post(client, content=b"name\nx\n", filename="leads.csv", token="t0k3n", **fields):
    data = {"campaign_id": "C1", **fields}
    if content is not None:
        data["file"] = (io.BytesIO(content), filename)
    return client.post(URL, data=data, content_type="multipart/form-data",
                       headers={"Authorization": f"Bearer {token}"})


def test_the_file_goes_to_the_lead_service_in_parts_and_the_job_id_comes_back(client, monkeypatch):
    monkeypatch.setattr(imports, "PART", 4)
    response = post(client, "姓名\n张三\n".encode("gbk"), pool_id="P1", on_duplicate="flag",
                    mapping='{"姓名": "contact.name"}')

    assert (response.status_code, response.get_json()) == (202, {"job_id": "J1"})
    methods = [method for method, _ in client.rpc.calls]
    assert methods == ["create_import", "add_import_part", "add_import_part", "add_import_part", "submit_import"]
    assert client.rpc.calls[0][1] == ({"campaign_id": "C1", "pool_id": "P1", "mapping": {"姓名": "contact.name"},
                                       "on_duplicate": "flag", "filename": "leads.csv"},)
    parts = [args for method, args in client.rpc.calls if method == "add_import_part"]
    assert b"".join(base64.b64decode(data) for _, _, data in parts) == "姓名\n张三\n".encode("gbk")
    assert [seq for _, seq, _ in parts] == [0, 1, 2]


def test_bad_uploads_are_4xx_in_the_api_error_format(client):
    cases = {
        "xlsx": post(client, b"PK\x03\x04", filename="leads.xlsx"),
        "no file": post(client, None),
        "empty": post(client, b"  \n"),
        "mapping": post(client, mapping="{not json"),
        "json body": client.post(URL, json={"campaign_id": "C1"}, headers={"Authorization": "Bearer t0k3n"}),
    }

    assert {name: r.status_code for name, r in cases.items()} == {
        "xlsx": 415, "no file": 422, "empty": 422, "mapping": 422, "json body": 415}
    assert all(set(r.get_json()["error"]) == {"code", "message", "details"} for r in cases.values())
    assert client.rpc.calls == []


def test_a_file_over_50_mib_is_413_and_one_over_the_apps_1_mib_is_taken(client, monkeypatch):
    assert post(client, b"name\n" + b"x" * (2 * 1024 * 1024)).status_code == 202
    monkeypatch.setattr(imports, "MAX_FILE", 1024)
    monkeypatch.setattr(imports, "MAX_BODY", 4096)

    response = post(client, b"name\n" + b"x" * 8192)

    assert (response.status_code, response.get_json()["error"]["code"]) == (413, "too_large")


def test_a_file_the_service_cannot_read_is_422_with_its_details(client):
    client.rpc.refuse = True

    response = post(client, b"foo\n1\n")

    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"file": "Headers found: foo."}


def test_importing_needs_a_marketing_role(client):
    from crmkit.context import RequestContext

    users = client.application.extensions["crm_users"]
    user = users.create({"username": "s1", "roles": ["sales_member"]}, RequestContext(user_id="admin"))

    assert post(client, token=users.issue_token(user["id"])).status_code == 403
    assert client.rpc.calls == []
