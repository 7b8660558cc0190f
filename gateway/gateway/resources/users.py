"""Users and tokens (API.md "Users"): the gateway holds them."""
from flask import current_app, g
from flask_smorest import Blueprint

from crmkit import paging

from ..auth import request_context, require_role
from ..errors import ApiError
from ..schemas import Paging, UserIn, UserPatch

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users and tokens")


def _store():
    return current_app.extensions["crm_users"]


@blp.route("", methods=["POST"])
@blp.arguments(UserIn)
@blp.response(201)
def create_user(data):
    """Admin: create a user with roles, team and hourly rate."""
    require_role("admin")
    return _store().create(data, request_context())


@blp.route("", methods=["GET"])
@blp.arguments(Paging, location="query")
def list_users(args):
    """All users, for pickers and recipients."""
    limit = paging.limit_of(args.get("limit"))
    items = _store().list(limit, paging.decode(args.get("cursor")))
    return paging.page(items, limit, key=lambda u: u["id"])


@blp.route("/me", methods=["GET"])
def me():
    """The caller."""
    return g.user


@blp.route("/<user_id>", methods=["GET"])
def get_user(user_id):
    user = _store().get(user_id)
    if user is None:
        raise ApiError(404, "No such user.")
    return user


@blp.route("/<user_id>", methods=["PATCH"])
@blp.arguments(UserPatch)
def update_user(data, user_id):
    """Admin: change name, roles, team, hourly rate, or switch a user off (`active: false`: their
    tokens stop working). Emits user.updated on gateway.events."""
    require_role("admin")
    if user_id == g.user["id"] and data.get("active") is False:
        raise ApiError(409, "You cannot switch yourself off.")
    return _store().update(user_id, data, request_context())


@blp.route("/<user_id>/tokens", methods=["POST"])
@blp.response(201)
def create_token(user_id):
    """Admin, or the user: a new bearer token (shown once)."""
    if g.user["id"] != user_id:
        require_role("admin")
    if _store().get(user_id) is None:
        raise ApiError(404, "No such user.")
    return {"token": _store().issue_token(user_id)}
