"""Assignment rules (API.md "Assignment rules")."""
from flask import current_app
from flask_smorest import Blueprint

from ..auth import require_role, rpc
from ..errors import ApiError
from ..schemas import Paging, RuleIn

blp = Blueprint("rules", __name__, url_prefix="/api/v1/assignment-rules", description="Assignment rules (A1-A10)")
AUTHORS = ("admin", "marketing_director", "marketing_member", "market_manager", "sales_manager")


@blp.route("", methods=["POST"])
@blp.arguments(RuleIn)
@blp.response(201)
def create_rule(data):
    require_role(*AUTHORS)
    users = {r["user_id"] for r in data["recipients"]} | set(data.get("usable_by") or [])
    missing = users - current_app.extensions["crm_users"].existing(users)
    if missing:
        raise ApiError(422, "Unknown user.", {"recipients": f"No such user: {', '.join(sorted(missing))}."})
    return rpc("assignment", "create_rule", data)


@blp.route("", methods=["GET"])
@blp.arguments(Paging, location="query")
def list_rules(args):
    return rpc("assignment", "list_rules", args.get("limit"), args.get("cursor"))


@blp.route("/<rule_id>", methods=["GET"])
def get_rule(rule_id):
    return rpc("assignment", "get_rule", rule_id)
