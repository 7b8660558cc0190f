"""Leads (API.md "Leads")."""
from flask import current_app, g, request
from flask_smorest import Blueprint

from ..auth import rpc
from ..errors import ApiError
from ..schemas import AssignmentIn, LeadFilters, LeadIn, Paging

blp = Blueprint("leads", __name__, url_prefix="/api/v1/leads", description="Leads (L1-L15)")


def check_users(user_ids):
    missing = set(user_ids) - current_app.extensions["crm_users"].existing(user_ids)
    if missing:
        raise ApiError(422, "Unknown user.", {"user_id": f"No such user: {', '.join(sorted(missing))}."})


@blp.route("", methods=["POST"])
@blp.arguments(LeadIn)
@blp.response(201)
def create_lead(data):
    """Create a lead (raw). A contact name or a company name is required (L1).

    Send `Idempotency-Key` to make a retried POST return the first lead instead of a second.
    """
    if data.get("owner_id"):
        check_users([data["owner_id"]])
    key = request.headers.get("Idempotency-Key")
    request_key = f"{g.user['id']}:{key}" if key else g.correlation_id
    return rpc("lead", "create_lead", data, request_key=request_key[:100])


@blp.route("", methods=["GET"])
@blp.arguments(LeadFilters, location="query")
def list_leads(args):
    limit, cursor = args.pop("limit", None), args.pop("cursor", None)
    return rpc("lead", "list_leads", args, limit, cursor)


@blp.route("/<lead_id>", methods=["GET"])
def get_lead(lead_id):
    return rpc("lead", "get_lead", lead_id)


@blp.route("/<lead_id>/assignments", methods=["POST"])
@blp.arguments(AssignmentIn)
@blp.response(201)
def assign(data, lead_id):
    """Assign by hand (A9), with per-section permissions (L3). Owner or manager."""
    check_users([data["user_id"]])
    return rpc("lead", "assign_lead", lead_id, [data])


@blp.route("/<lead_id>/history", methods=["GET"])
@blp.arguments(Paging, location="query")
def history(args, lead_id):
    """The lead's change log, oldest first (L15)."""
    return rpc("lead", "get_history", lead_id, args.get("limit"), args.get("cursor"))


@blp.route("/<lead_id>/assignment-log", methods=["GET"])
@blp.arguments(Paging, location="query")
def assignment_log(args, lead_id):
    """Every rule decision taken for the lead, oldest first (A10)."""
    return rpc("assignment", "get_assignment_log", lead_id, args.get("limit"), args.get("cursor"))
