"""Reports (API.md "Reports"): campaign, list, sales, funnel, CSV, and the dashboard page (R1–R5)."""
from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import require_role, rpc

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Reports (R1-R6)")
pages = Blueprint("dashboard", __name__, description="The reports dashboard page (R5)")

OVERALL_ROLES = ("admin", "marketing_director", "marketing_member", "market_manager", "sales_manager")
SORTS = ("roi", "name", "won", "cost", "leads", "updated_at")


class CampaignListArgs(Schema):
    sort = fields.String(load_default="-roi", validate=validate.OneOf(SORTS + tuple(f"-{s}" for s in SORTS)))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    cursor = fields.String(load_default=None)


class ScopeArgs(Schema):
    campaign_id = fields.String(load_default=None, validate=validate.Length(1, 64))


def _scope(campaign_id):
    """One campaign: view on it; overall: a managing or marketing role."""
    if campaign_id:
        rpc("campaign", "authorize_campaign", campaign_id, "view")
    else:
        require_role(*OVERALL_ROLES)


def _csv(text, filename):
    return Response(text.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/campaigns/<campaign_id>.csv", methods=["GET"])
def campaign_report_csv(campaign_id):
    """R5: the campaign report as CSV (metric, value), UTF-8 with BOM. Needs view on the campaign."""
    rpc("campaign", "authorize_campaign", campaign_id, "view")
    return _csv(rpc("reporting", "export_campaign_report", campaign_id), f"campaign-{campaign_id}.csv")


@blp.route("/campaigns/<campaign_id>", methods=["GET"])
def campaign_report(campaign_id):
    """The campaign's live report (R1, R2): updated as events arrive; a parent campaign also has
    `children` and `rollup`. Needs view on the campaign."""
    rpc("campaign", "authorize_campaign", campaign_id, "view")
    return rpc("reporting", "get_campaign_report", campaign_id)


@blp.route("/campaigns", methods=["GET"])
@blp.arguments(CampaignListArgs, location="query")
def campaign_reports(args):
    """Every campaign's headline figures (ROI, won, cost…), sorted by `sort` (`-` for descending,
    default `-roi`), paged. Marketing and managing roles."""
    require_role(*OVERALL_ROLES)
    return rpc("reporting", "list_campaign_reports", args["sort"], args["limit"], args["cursor"])


@blp.route("/sales", methods=["GET"])
@blp.arguments(ScopeArgs, location="query")
def sales_report(args):
    """R3: per person (leads held, responses, conversions, won revenue, effort) and per pool, for a
    campaign (`campaign_id`, view on it) or overall (marketing and managing roles)."""
    _scope(args["campaign_id"])
    return rpc("reporting", "get_sales_report", args["campaign_id"])


@blp.route("/funnel", methods=["GET"])
@blp.arguments(ScopeArgs, location="query")
def funnel_report(args):
    """R4: lead → usable → opportunity → won, with conversion rates and median days between stages,
    for a campaign or overall."""
    _scope(args["campaign_id"])
    return rpc("reporting", "get_funnel_report", args["campaign_id"])


@pages.route("/dashboard")
@pages.doc(security=[])
def dashboard():
    """R5: the dashboard page (HTML; it asks for a token and reads the reports API)."""
    return current_app.send_static_file("dashboard.html")
