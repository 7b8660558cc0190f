"""Fixtures for integration tests: an isolated RabbitMQ vhost, fresh databases, a running stack.

Integration tests start the four services and the gateway as real processes
(crmkit.supervise.Stack) against the real broker and SQLite or PostgreSQL.
"""
import subprocess
import urllib.parse
import uuid

# --import-mode=importlib names test modules after their folders (crmkit/tests →
# crmkit.tests) and would register the project folders crmkit/ and gateway/ as empty
# namespace packages, hiding the real ones. Import the real packages first.
import crmkit  # noqa: F401
import gateway  # noqa: F401
import pytest

from tests.support import (ADMIN_TOKEN, BASE_AMQP, Api, create_pg_databases, drop_pg_databases,
                           free_port, reset_broker)


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
