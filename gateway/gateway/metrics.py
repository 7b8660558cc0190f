"""Prometheus text at /metrics (P4): the gateway's requests by endpoint and status with latency
histograms, plus each service's queues, outbox and dead letters pulled over RPC."""
import threading
import time

from flask import Blueprint, Response, current_app, g, request

from .resources.health import ask_each


blp = Blueprint("metrics", __name__)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """Counts and latency histograms per (method, endpoint, status); thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self.counts = {}
        self.buckets = {}
        self.sums = {}

    def observe(self, method, endpoint, status, seconds):
        key = (method, endpoint, str(status))
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            self.sums[(method, endpoint)] = self.sums.get((method, endpoint), 0.0) + seconds
            row = self.buckets.setdefault((method, endpoint), [0] * (len(BUCKETS) + 1))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-1] += 1

    def lines(self):
        with self._lock:
            counts, buckets, sums = dict(self.counts), {k: list(v) for k, v in self.buckets.items()}, dict(self.sums)
        out = ["# HELP crm_gateway_requests_total HTTP requests by method, endpoint and status.",
               "# TYPE crm_gateway_requests_total counter"]
        out += [f'crm_gateway_requests_total{{method="{m}",endpoint="{e}",status="{s}"}} {n}'
                for (m, e, s), n in sorted(counts.items())]
        out += ["# HELP crm_gateway_request_seconds HTTP request latency.",
                "# TYPE crm_gateway_request_seconds histogram"]
        for (m, e), row in sorted(buckets.items()):
            labels = f'method="{m}",endpoint="{e}"'
            out += [f'crm_gateway_request_seconds_bucket{{{labels},le="{b}"}} {row[i]}' for i, b in enumerate(BUCKETS)]
            out += [f'crm_gateway_request_seconds_bucket{{{labels},le="+Inf"}} {row[-1]}',
                    f"crm_gateway_request_seconds_sum{{{labels}}} {sums[(m, e)]:.6f}",
                    f"crm_gateway_request_seconds_count{{{labels}}} {row[-1]}"]
        return out


def service_snapshot(pool, timeout=2.0):
    """Each service's health (outbox, dead letters) and queues; a service that does not answer is
    reported as down, never raised."""
    answers = ask_each(lambda service: {"health": pool.call(service, "health", timeout=timeout),
                                        "queues": pool.call(service, "queues", timeout=timeout)})
    return {service: answer if "health" in answer else {"health": answer, "queues": {}}
            for service, answer in answers.items()}


def service_lines(snapshot):
    out = ["# TYPE crm_service_up gauge", "# TYPE crm_queue_messages gauge", "# TYPE crm_queue_consumers gauge",
           "# TYPE crm_outbox_pending gauge", "# TYPE crm_dead_letters gauge"]
    for service, info in sorted(snapshot.items()):
        health = info["health"]
        out.append(f'crm_service_up{{service="{service}"}} {int(health.get("status") == "ok")}')
        out.append(f'crm_outbox_pending{{service="{service}"}} {(health.get("outbox") or {}).get("pending", 0)}')
        out.append(f'crm_dead_letters{{service="{service}"}} {health.get("dead_letters", 0)}')
        for queue, depth in sorted((info["queues"] or {}).items()):
            if depth:
                out.append(f'crm_queue_messages{{queue="{queue}"}} {depth["messages"]}')
                out.append(f'crm_queue_consumers{{queue="{queue}"}} {depth["consumers"]}')
    return out


def install(app):
    """Time every request; serve /metrics (public, as scrapers expect)."""
    registry = app.extensions["crm_metrics"] = RequestMetrics()

    @app.before_request
    def _start():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.get("metrics_started")
        if started is not None:
            registry.observe(request.method, request.endpoint or "unknown", response.status_code,
                             time.perf_counter() - started)
        return response

    app.register_blueprint(blp)


@blp.route("/metrics")
def metrics():
    lines = current_app.extensions["crm_metrics"].lines()
    lines += service_lines(service_snapshot(current_app.extensions["crm_rpc"]))
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
