"""Operators (P4): dead letters and their replay, a status snapshot, the rebuild of the reports
(R6), and the operators' page."""
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import context, require_role
from ..metrics import service_snapshot
from .health import SERVICES

blp = Blueprint("ops", __name__, url_prefix="/api/v1/ops", description="Operations (admin)")


class ReplayIn(Schema):
    service = fields.String(load_default=None, validate=validate.OneOf(SERVICES))
    subscription = fields.String(load_default=None)
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1))


def _pool():
    return current_app.extensions["crm_rpc"]


@blp.route("", methods=["GET"])
@blp.doc(security=[])
def ops_page():
    """P4: the operators' page (HTML): health, queues, outbox lag, dead letters with replay. It asks
    for an admin token and reads /ops/status."""
    return current_app.send_static_file("ops.html")


@blp.route("/status", methods=["GET"])
def status():
    """Admin: each service's health (outbox lag, dead letters), queue depths and consumers, the
    reporting projection's progress, and the gateway's error count."""
    require_role("admin")
    snapshot = service_snapshot(_pool())
    try:
        snapshot["reporting"]["projection"] = _pool().call("reporting", "projection_stats", context=context())
    except Exception as exc:  # noqa: BLE001 - shown, not raised
        snapshot["reporting"]["projection"] = {"error": f"{type(exc).__name__}: {exc}"}
    counts = current_app.extensions["crm_metrics"].counts
    errors = sum(n for (_, _, code), n in list(counts.items()) if code.startswith("5"))
    return {"services": snapshot, "gateway": {"server_errors": errors,
                                              "requests": sum(counts.values())}}


@blp.route("/dead-letters", methods=["GET"])
def dead_letters():
    """Parked messages per service and subscription."""
    require_role("admin")
    return {service: _pool().call(service, "health", context=context())["parked"] for service in SERVICES}


@blp.route("/dead-letters/replay", methods=["POST"])
@blp.arguments(ReplayIn)
def replay(args):
    """Move parked messages back onto their queues (their attempts start again)."""
    require_role("admin")
    services = [args["service"]] if args.get("service") else SERVICES
    return {service: _pool().call(service, "replay_dead_letters", args.get("subscription"), args.get("limit"),
                                  context=context())["replayed"] for service in services}


@blp.route("/rebuild-reports", methods=["POST"])
def rebuild_reports():
    """Admin, R6: empty the report projections and replay every event reporting kept into them.
    Returns {"replayed", "seconds"}; live events wait for it and then carry on."""
    require_role("admin")
    return _pool().call("reporting", "rebuild_reports", context=context(), timeout=600)
