"""Operators: dead letters per service, and replaying them (P4)."""
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import context, require_role
from .health import SERVICES

blp = Blueprint("ops", __name__, url_prefix="/api/v1/ops", description="Operations (admin)")


class ReplayIn(Schema):
    service = fields.String(load_default=None, validate=validate.OneOf(SERVICES))
    subscription = fields.String(load_default=None)
    limit = fields.Integer(load_default=None)


@blp.route("/dead-letters", methods=["GET"])
def dead_letters():
    """Parked messages per service and subscription."""
    require_role("admin")
    pool = current_app.extensions["crm_rpc"]
    return {service: pool.call(service, "health", context=context())["parked"] for service in SERVICES}


@blp.route("/dead-letters/replay", methods=["POST"])
@blp.arguments(ReplayIn)
def replay(args):
    """Move parked messages back onto their queues (their attempts start again)."""
    require_role("admin")
    pool = current_app.extensions["crm_rpc"]
    services = [args["service"]] if args.get("service") else SERVICES
    return {service: pool.call(service, "replay_dead_letters", args.get("subscription"), args.get("limit"),
                               context=context())["replayed"] for service in services}
