"""Campaigns (API.md "Campaigns").

Permissions (C2): the owner and administrators manage a campaign; the owner names participants
with view, edit or manage; marketing directors may view and edit every campaign. A user with no
access at all is answered 404, as if the campaign did not exist; one with too little access, 403.
"""
from flask_smorest import Blueprint

from ..auth import require_role, rpc
from ..schemas import (CampaignFilters, CampaignIn, CampaignPatch, ExpenseFilters, ExpenseIn, ParticipantIn,
                       RuleRef)
from .leads import check_users

blp = Blueprint("campaigns", __name__, url_prefix="/api/v1/campaigns",
                description="Campaigns (C1-C8). " + __doc__.split("\n\n", 1)[1].replace("\n", " "))
CREATORS = ("admin", "marketing_director", "marketing_member", "market_manager")


@blp.route("", methods=["POST"])
@blp.arguments(CampaignIn)
@blp.response(201)
def create_campaign(data):
    """Create a campaign; owner_id defaults to the caller."""
    require_role(*CREATORS)
    if data.get("owner_id"):
        check_users([data["owner_id"]])
    return rpc("campaign", "create_campaign", data)


@blp.route("", methods=["GET"])
@blp.arguments(CampaignFilters, location="query")
def list_campaigns(args):
    """The campaigns the caller owns or takes part in (all of them for admins and marketing
    directors), newest first. `date_from`/`date_to` keep campaigns whose dates overlap the range."""
    limit, cursor = args.pop("limit", None), args.pop("cursor", None)
    return rpc("campaign", "list_campaigns", args, limit, cursor)


@blp.route("/<campaign_id>", methods=["GET"])
def get_campaign(campaign_id):
    return rpc("campaign", "get_campaign", campaign_id)


@blp.route("/<campaign_id>", methods=["PATCH"])
@blp.arguments(CampaignPatch)
def update_campaign(data, campaign_id):
    """Change fields (edit permission); a new owner_id needs manage. Illegal status moves → 409;
    a parent that would close a cycle → 422."""
    if data.get("owner_id"):
        check_users([data["owner_id"]])
    return rpc("campaign", "update_campaign", campaign_id, data)


@blp.route("/<campaign_id>", methods=["DELETE"])
@blp.response(204)
def delete_campaign(campaign_id):
    """C7/C8: a campaign with leads, activities or expenses is archived (still readable, out of
    default lists, no new leads); an empty one is destroyed."""
    rpc("campaign", "delete_campaign", campaign_id)


@blp.route("/<campaign_id>/expenses", methods=["POST"])
@blp.arguments(ExpenseIn)
@blp.response(201)
def record_expense(data, campaign_id):
    """C3: an explicit cost (amount > 0, category, date, note, optional lead)."""
    return rpc("campaign", "record_expense", campaign_id, data)


@blp.route("/<campaign_id>/expenses", methods=["GET"])
@blp.arguments(ExpenseFilters, location="query")
def list_expenses(args, campaign_id):
    return rpc("campaign", "list_expenses", campaign_id, args.get("limit"), args.get("cursor"),
               args.get("include_removed", False))


@blp.route("/<campaign_id>/expenses/<expense_id>", methods=["DELETE"])
@blp.response(204)
def remove_expense(campaign_id, expense_id):
    """C3: take an expense back; it stays on record (include_removed=true lists it)."""
    rpc("campaign", "remove_expense", campaign_id, expense_id)


@blp.route("/<campaign_id>/rule", methods=["PUT"])
@blp.arguments(RuleRef)
def set_rule(data, campaign_id):
    """Every lead of the campaign created after this returns runs through the rule (A6)."""
    require_role(*CREATORS, "sales_manager")
    rpc("campaign", "authorize_campaign", campaign_id, "edit")
    return rpc("assignment", "set_campaign_rule", campaign_id, data["rule_id"])


@blp.route("/<campaign_id>/participants", methods=["PUT"])
@blp.arguments(ParticipantIn(many=True))
def set_participants(data, campaign_id):
    """C2: replace the participants. Only the owner, a `manage` participant or an admin."""
    check_users([p["user_id"] for p in data])
    participants = rpc("campaign", "set_participants", campaign_id, data)["participants"]
    return {"items": participants, "next_cursor": None}


@blp.route("/<campaign_id>/participants", methods=["GET"])
def get_participants(campaign_id):
    """C2: who takes part and with which permission (view, edit, manage)."""
    return {"items": rpc("campaign", "get_campaign", campaign_id)["participants"], "next_cursor": None}
