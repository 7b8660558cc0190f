"""Leads (API.md "Leads")."""
from flask import current_app, g, request
from flask_smorest import Blueprint

from ..auth import rpc
from ..errors import ApiError
from ..schemas import (AssignmentIn, LeadFilters, LeadIn, LeadPatch, MergeIn, Paging, QualityIn, ResponseIn,
                       StatusIn)

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


def checked(method, *args):
    """A lead RPC that checks section permissions: it carries the conflict policy in force (L4),
    read now, so a settings change applies to every call after it returned."""
    g.policy = current_app.extensions["crm_users"].settings()["permission_conflict_policy"]
    return rpc("lead", method, *args)


@blp.route("/<lead_id>", methods=["GET"])
def get_lead(lead_id):
    """The lead, to a user who may read it; to anybody else 404 (L4)."""
    return rpc("lead", "get_lead", lead_id)


@blp.route("/<lead_id>", methods=["PATCH"])
@blp.arguments(LeadPatch)
def patch_lead(data, lead_id):
    """Change sections, tags, campaign, pool or owner (L1, L3, L4, L5). Each section sent needs `edit`
    for the caller under the conflict policy; if one does not, 403 names it and nothing is written.
    Moving the lead (campaign, pool, owner) is for its owner, admins, marketing directors and managers
    of its team."""
    if data.get("owner_id"):
        check_users([data["owner_id"]])
    return checked("patch_lead", lead_id, data)


@blp.route("/<lead_id>/permissions", methods=["GET"])
def permissions(lead_id):
    """L4: the caller's permission per section, its role and assignment sides, the policy in force and
    the reason in words."""
    return checked("get_permissions", lead_id)


@blp.route("/<lead_id>/status", methods=["POST"])
@blp.arguments(StatusIn)
def set_status(data, lead_id):
    """L6: raw → usable | working | invalid; usable → working | invalid; working → usable | invalid;
    invalid → raw | usable. `converted` only through /convert. Anything else → 409."""
    return checked("set_status", lead_id, data)


@blp.route("/<lead_id>/responses", methods=["POST"])
@blp.arguments(ResponseIn)
@blp.response(201)
def record_response(data, lead_id):
    """L7: accepted, not_accepted or not_reached, with a note and a time (default now)."""
    return checked("record_response", lead_id, data)


@blp.route("/<lead_id>/responses", methods=["GET"])
@blp.arguments(Paging, location="query")
def list_responses(args, lead_id):
    return rpc("lead", "list_responses", lead_id, args.get("limit"), args.get("cursor"))


@blp.route("/<lead_id>/quality", methods=["POST"])
@blp.arguments(QualityIn)
@blp.response(201)
def assess_quality(data, lead_id):
    """L8: an assignee (or the owner) rates validity, reachability and intent (1-5); the lead's
    `quality.score` (0-100) is the mean of its assessors' latest ratings."""
    return rpc("lead", "assess_quality", lead_id, data)


@blp.route("/<lead_id>/release", methods=["POST"])
def release(lead_id):
    """L9: a claimed lead goes back to its pool (its claimer, or who may assign it); 409 if not claimed."""
    return rpc("lead", "release", lead_id)


@blp.route("/merge", methods=["POST"])
@blp.arguments(MergeIn)
def merge(data):
    """L14: fold duplicates into one lead. Their activities, responses, quality ratings, opportunities,
    accounts, assignees and history move to it, and their values fill its empty fields; they become
    tombstones (GET answers 404 with `details.merged_into`). For who may assign every lead involved."""
    return checked("merge_leads", {"into": data["into"], "from": data["from_"]})


@blp.route("/<lead_id>/duplicates", methods=["GET"])
def duplicates(lead_id):
    """L14: stored leads that look like this one — same e-mail, same personal phone, or same company
    and contact name — each with `matched_on`."""
    return rpc("lead", "find_duplicates", lead_id)


@blp.route("/<lead_id>/assignments/<user_id>", methods=["DELETE"])
@blp.response(204)
def recall(lead_id, user_id):
    """L2: take the lead back from an assignee (owner, admin, marketing director, team manager)."""
    rpc("lead", "recall", lead_id, user_id)


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
