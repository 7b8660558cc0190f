"""Helpers for integration tests: a gateway client, waiting, broker and database set-up."""
import os
import socket
import time
import urllib.parse

import requests

ADMIN_TOKEN = "test-admin-token"
BASE_AMQP = os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/")
PG_URL = os.environ.get("CRM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


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
