"""What the benchmarks share: an isolated broker vhost and a stack they start and stop."""
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_AMQP = os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/")


@contextlib.contextmanager
def vhost():
    """A fresh RabbitMQ vhost (via rabbitmqctl) so the run meets no other traffic."""
    name = f"crm-bench-{uuid.uuid4().hex[:6]}"
    try:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True, timeout=60)
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.CalledProcessError):
        yield BASE_AMQP  # no rabbitmqctl here: share the default vhost
        return
    try:
        yield urllib.parse.urlparse(BASE_AMQP)._replace(path="/" + name).geturl()
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=60)


@contextlib.contextmanager
def running_stack(amqp_uri, replicas=None, env=None, gateway_workers=1, gateway_threads=16):
    from crmkit.supervise import Stack
    from tests.support import Api, free_port

    with tempfile.TemporaryDirectory(prefix="crm-bench-") as var:
        stack = Stack(env={"CRM_VAR_DIR": var, "AMQP_URI": amqp_uri, "CRM_ADMIN_TOKEN": "bench-token",
                           "CRM_GATEWAY_PORT": str(free_port()), "CRM_LOG_LEVEL": "WARNING", **(env or {})},
                      replicas=replicas, gateway_workers=gateway_workers, gateway_threads=gateway_threads)
        stack.start(timeout=90)
        stack.api = Api(stack.url, "bench-token")
        try:
            yield stack
        finally:
            stack.stop()


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def run_clients(client, count) -> float:
    """Run client(0) … client(count - 1) in threads at once; returns the seconds until all are done."""
    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - start
