"""Health checks for the CRM image: compose healthchecks and Kubernetes exec probes.

    python /app/deploy/healthcheck.py broker        per container: a `crmkit.run` process of this
                                                    container holds an ESTABLISHED connection to the
                                                    broker (AMQP_URI's port). Cheap, no broker round trip.
    python /app/deploy/healthcheck.py rpc SERVICE   end to end: SERVICE.health() answers over RPC, so
                                                    the broker, a replica of SERVICE and its database
                                                    work. Any replica may answer: with several replicas
                                                    this does not single out this container.
    python /app/deploy/healthcheck.py service SERVICE   both: `broker`, then `rpc SERVICE`.
    python /app/deploy/healthcheck.py http [URL]    the gateway answers GET /api/v1/health with 200 and a
                                                    JSON status ("ok" or "degraded"); --require-ok for "ok".

Exit status 0 when healthy, 1 otherwise, with a one-line reason on stderr.
"""
import json
import os
import signal
import sys
import urllib.parse
import urllib.request

DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"
ESTABLISHED = "01"


def fail(reason):
    print(f"unhealthy: {reason}", file=sys.stderr)
    return 1


def broker_port(uri):
    parsed = urllib.parse.urlsplit(uri)
    return parsed.port or (5671 if parsed.scheme == "amqps" else 5672)


def socket_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def service_pids():
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"crmkit.run" in argv:
            pids.append(int(entry))
    return pids


def established_to(port):
    """Inodes of the ESTABLISHED TCP sockets (v4 and v6) whose remote port is `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == ESTABLISHED and int(fields[2].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def check_broker():
    pids = service_pids()
    if not pids:
        return fail("no `python -m crmkit.run` process in this container")
    port = broker_port(os.environ.get("AMQP_URI", DEFAULT_AMQP_URI))
    connected = established_to(port)
    for pid in pids:
        try:
            if socket_inodes(pid) & connected:
                return 0
        except OSError:
            continue
    return fail(f"the service process holds no established connection to the broker (port {port})")


def check_rpc(service, timeout):
    from nameko.standalone.rpc import ClusterRpcProxy

    config = {"AMQP_URI": os.environ.get("AMQP_URI", DEFAULT_AMQP_URI), "serializer": "json"}
    try:
        with ClusterRpcProxy(config, timeout=timeout) as rpc:
            reply = getattr(rpc, service).health()
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
        return fail(f"{service}.health(): {type(exc).__name__}: {exc}")
    if not isinstance(reply, dict) or reply.get("status") != "ok":
        return fail(f"{service}.health() answered {reply!r}")
    return 0


def check_http(url, timeout, require_ok):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            code, body = response.status, json.loads(response.read())
    except Exception as exc:  # noqa: BLE001 - HTTP errors, refused connections, bad JSON
        return fail(f"GET {url}: {type(exc).__name__}: {exc}")
    status = body.get("status") if isinstance(body, dict) else None
    if code != 200 or status not in ("ok", "degraded"):
        return fail(f"GET {url}: {code} {status!r}")
    if require_ok and status != "ok":
        return fail(f"GET {url}: status {status!r}")
    return 0


def main(argv):
    timeout = float(os.environ.get("CRM_HEALTHCHECK_TIMEOUT", "5"))
    # A hard stop, whatever a library does on a dead broker (reconnect loops).
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(fail(f"no answer within {timeout + 5:.0f}s")))
    signal.alarm(int(timeout) + 5)
    args = [a for a in argv if not a.startswith("--")]
    if args[:1] == ["broker"]:
        return check_broker()
    if args[:1] == ["rpc"] and len(args) == 2:
        return check_rpc(args[1], timeout)
    if args[:1] == ["service"] and len(args) == 2:
        return check_broker() or check_rpc(args[1], timeout)
    if args[:1] == ["http"]:
        url = args[1] if len(args) > 1 else "http://127.0.0.1:8000/api/v1/health"
        return check_http(url, timeout, "--require-ok" in argv)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
