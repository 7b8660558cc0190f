"""Settings (API.md "Settings"): the conflict policy of lead permissions and the default hourly rate."""
from flask import current_app
from flask_smorest import Blueprint

from ..auth import request_context, require_role
from ..schemas import SettingsPatch

blp = Blueprint("settings", __name__, url_prefix="/api/v1/settings", description="Settings (L4, C4)")


@blp.route("", methods=["GET"])
def get_settings():
    """The settings in force: `permission_conflict_policy` (default `assignment_wins`) and
    `default_hourly_rate` (default 0.00, used for effort of users without a rate)."""
    return current_app.extensions["crm_users"].settings()


@blp.route("", methods=["PATCH"])
@blp.arguments(SettingsPatch)
def update_settings(data):
    """Admin: change settings; they apply to everything after this returns. Emits settings.updated."""
    require_role("admin")
    return current_app.extensions["crm_users"].update_settings(data, request_context())
