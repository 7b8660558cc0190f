"""Campaigns (API.md "Campaigns")."""
from flask_smorest import Blueprint

from ..auth import require_role, rpc
from ..schemas import CampaignFilters, CampaignIn, CampaignPatch, ExpenseFilters, ExpenseIn, RuleRef

blp = Blueprint("campaigns", __name__, url_prefix="/api/v1/campaigns", description="Campaigns (C1-C8)")
CREATORS = ("admin", "marketing_director", "marketing_member", "market_manager")


def _json(data):
    return {k: (str(v) if k in ("budget", "expected_revenue", "amount") and v is not None else
                v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


@blp.route("", methods=["POST"])
@blp.arguments(CampaignIn)
@blp.response(201)
def create_campaign(data):
    """Create a campaign; owner_id defaults to the caller."""
    require_role(*CREATORS)
    return rpc("campaign", "create_campaign", _json(data))


@blp.route("", methods=["GET"])
@blp.arguments(CampaignFilters, location="query")
def list_campaigns(args):
    limit, cursor = args.pop("limit", None), args.pop("cursor", None)
    return rpc("campaign", "list_campaigns", args, limit, cursor)


@blp.route("/<campaign_id>", methods=["GET"])
def get_campaign(campaign_id):
    return rpc("campaign", "get_campaign", campaign_id)


@blp.route("/<campaign_id>", methods=["PATCH"])
@blp.arguments(CampaignPatch)
def update_campaign(data, campaign_id):
    return rpc("campaign", "update_campaign", campaign_id, _json(data))


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
    return rpc("campaign", "record_expense", campaign_id, _json(data))


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
    return rpc("assignment", "set_campaign_rule", campaign_id, data["rule_id"])
