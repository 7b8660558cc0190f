"""Lead pools (API.md "Leads": pools; L9)."""
from flask_smorest import Blueprint
from marshmallow import fields, validate

from ..auth import rpc
from ..schemas import Paging, Strict

blp = Blueprint("pools", __name__, url_prefix="/api/v1/pools",
                description="Lead pools (L9): a total pool with sub-pools, at most 3 levels. Marketing sees "
                            "every pool; others see the sub-pools of their team and those without a team. "
                            "Push is POST /leads/{id}/assignments; pull is POST /pools/{id}/claim; "
                            "POST /leads/{id}/release gives a claimed lead back.")


class PoolIn(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_id = fields.String(allow_none=True, metadata={"description": "None: a total pool (level 1)."})
    team = fields.String(allow_none=True, metadata={"description": "A market team's sub-pool."})
    claim_limit = fields.Integer(allow_none=True, metadata={"description": "Open claimed leads a person may hold."})
    recycle_days = fields.Integer(allow_none=True,
                                  metadata={"description": "A claimed lead with no activity this long goes back."})
    cooldown_hours = fields.Integer(allow_none=True,
                                    metadata={"description": "Before who released a lead may claim it again."})


class ClaimIn(Strict):
    count = fields.Integer(load_default=1)


@blp.route("", methods=["POST"])
@blp.arguments(PoolIn)
@blp.response(201)
def create_pool(data):
    """A pool; a fourth level → 422. Admins, marketing directors and members, market managers."""
    return rpc("lead", "create_pool", data)


@blp.route("", methods=["GET"])
@blp.arguments(Paging, location="query")
def list_pools(args):
    return rpc("lead", "list_pools", args.get("limit"), args.get("cursor"))


@blp.route("/<pool_id>", methods=["GET"])
def get_pool(pool_id):
    return rpc("lead", "get_pool", pool_id)


@blp.route("/<pool_id>/claim", methods=["POST"])
@blp.arguments(ClaimIn)
def claim(data, pool_id):
    """Pull up to `count` (1-100) of the pool's oldest usable, then raw, leads: each is assigned to the
    caller with edit on every section. Never two claimers on one lead; the pool's claim limit (409)
    and the cooldown after a release hold."""
    return rpc("lead", "claim", pool_id, data)
