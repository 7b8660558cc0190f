"""Fixtures for integration tests: an isolated RabbitMQ vhost, fresh databases, a running stack.

Integration tests start the four services and the gateway as real processes
(crmkit.supervise.Stack) against the real broker and SQLite or PostgreSQL.
"""
import os
import socket
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests

ADMIN_TOKEN = "test-admin-token"
BASE_AMQP = os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/")
PG_URL = os.environ.get("CRM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)


@pytest.fixture(scope="session")
def broker_vhost():
    """A vhost of our own, so tests never meet a developer's running system or each other."""
    name = f"crm-test-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", name)
    user = urllib.parse.urlparse(BASE_AMQP).username or "guest"
    _rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
    parsed = urllib.parse.urlparse(BASE_AMQP)
    uri = parsed._replace(path="/" + urllib.parse.quote(name, safe="")).geturl()
    yield uri
    try:
        _rabbitmqctl("delete_vhost", name)
    except Exception:  # noqa: BLE001 - leftover vhosts are harmless
        pass


def reset_broker(amqp_uri):
    """Delete every CRM queue and exchange, so a new stack starts from an empty broker."""
    from kombu import Connection

    from crmkit import topology

    with Connection(amqp_uri) as conn:
        for sub in topology.SUBSCRIPTIONS.values():
            for name in (sub.queue, sub.retry_queue, sub.parked_queue):
                channel = conn.channel()
                try:
                    channel.queue_delete(name)
                except Exception:  # noqa: BLE001
                    pass
                finally:
                    try:
                        channel.close()
                    except Exception:  # noqa: BLE001
                        pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def pg_admin_url():
    return PG_URL


def create_pg_databases(prefix):
    import psycopg2

    parsed = urllib.parse.urlparse(PG_URL)
    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    urls = {}
    with conn.cursor() as cur:
        for name in ("campaign", "lead", "assignment", "reporting", "gateway"):
            db = f"{prefix}_{name}"
            cur.execute(f'DROP DATABASE IF EXISTS "{db}"')
            cur.execute(f'CREATE DATABASE "{db}"')
            urls[name] = parsed._replace(path="/" + db).geturl()
    conn.close()
    return urls


def drop_pg_databases(urls):
    import psycopg2

    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        for url in urls.values():
            db = urllib.parse.urlparse(url).path.lstrip("/")
            cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    conn.close()


class Api:
    """A tiny client for the gateway: base URL, a token, JSON in and out."""

    def __init__(self, base, token=ADMIN_TOKEN):
        self.base = base.rstrip("/") + "/api/v1"
        self.session = requests.Session()
        self.token = token

    def as_user(self, token):
        return Api(self.base[: -len("/api/v1")], token)

    def request(self, method, path, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.session.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def ok(self, method, path, status=None, **kw):
        response = self.request(method, path, **kw)
        assert response.status_code < 300 and (status is None or response.status_code == status), \
            f"{method} {path} → {response.status_code} {response.text}"
        return response.json() if response.content else None

    def user(self, username, roles=("sales_member",), team=None, hourly_rate=None):
        """Create a user and return (user, a client acting as that user)."""
        user = self.ok("POST", "/users", json={"username": username, "roles": list(roles), "team": team,
                                               "hourly_rate": hourly_rate})
        token = self.ok("POST", f"/users/{user['id']}/tokens")["token"]
        return user, self.as_user(token)


def wait_for(predicate, timeout=20.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")


@pytest.fixture
def make_stack(tmp_path, broker_vhost):
    """Start a stack: make_stack(database="sqlite"|"postgres", replicas={...}, env={...})."""
    from crmkit.supervise import Stack

    stacks, databases = [], []

    def start(database="sqlite", replicas=None, env=None, wait=True):
        reset_broker(broker_vhost)
        var = tmp_path / f"stack{len(stacks)}"
        full_env = {"CRM_VAR_DIR": str(var), "AMQP_URI": broker_vhost, "CRM_ADMIN_TOKEN": ADMIN_TOKEN,
                    "CRM_GATEWAY_PORT": str(free_port()), "CRM_RETRY_BASE_DELAY": "0.2",
                    "CRM_RETRY_ATTEMPTS": "3", "CRM_LOG_LEVEL": "INFO"}
        if database == "postgres":
            urls = create_pg_databases(f"crmtest_{uuid.uuid4().hex[:6]}")
            databases.append(urls)
            full_env.update({f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()})
        full_env.update(env or {})
        stack = Stack(env=full_env, replicas=replicas)
        stacks.append(stack)
        stack.start(wait=wait, timeout=90)
        stack.api = Api(stack.url)
        return stack

    yield start
    for stack in stacks:
        stack.stop()
    for urls in databases:
        drop_pg_databases(urls)
