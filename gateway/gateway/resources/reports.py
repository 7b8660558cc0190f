"""Reports (API.md "Reports")."""
from flask_smorest import Blueprint

from ..auth import rpc

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Reports (R1-R6)")


@blp.route("/campaigns/<campaign_id>", methods=["GET"])
def campaign_report(campaign_id):
    """The campaign's live report (R1, R2): updated as events arrive. Needs view on the campaign."""
    rpc("campaign", "authorize_campaign", campaign_id, "view")
    return rpc("reporting", "get_campaign_report", campaign_id)
