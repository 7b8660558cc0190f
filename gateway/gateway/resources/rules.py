"""Assignment rules (API.md "Assignment rules"), and a campaign's rules in priority order.

A rule is written from its tree (`condition`) or its text (`condition_text`, e.g.
`company.city = "Shanghai" or region(company) = "北京"`); both come back, with the
condition in plain words (`condition_words.en` / `.zh`). `PUT /campaigns/{id}/rules`
`[{"rule_id", "priority"}]` runs several rules on a campaign's new leads, lowest priority
first: the first match decides unless that rule has `"continue": true`.
`PUT /campaigns/{id}/rule` stays: it makes that rule the campaign's only one.
"""
from flask import current_app
from flask_smorest import Blueprint

from ..auth import require_role, rpc
from ..errors import ApiError
from ..schemas import CampaignRuleIn, LeadIdsIn, Paging, PreviewIn, RuleIn, RulePatch

blp = Blueprint("rules", __name__, url_prefix="/api/v1/assignment-rules", description="Assignment rules (A1-A10)")
campaign_rules_blp = Blueprint("campaign-rules", __name__, url_prefix="/api/v1/campaigns",
                               description="A campaign's assignment rules in priority order (A6)")
AUTHORS = ("admin", "marketing_director", "marketing_member", "market_manager", "sales_manager")


def _check_people(data):
    users = {r["user_id"] for r in data.get("recipients") or () if r.get("user_id")} | \
        set(data.get("usable_by") or [])
    missing = users - current_app.extensions["crm_users"].existing(users)
    if missing:
        raise ApiError(422, "Unknown user.", {"recipients": f"No such user: {', '.join(sorted(missing))}."})


@blp.route("", methods=["POST"])
@blp.arguments(RuleIn)
@blp.response(201)
def create_rule(data):
    """A1-A5: 422 details point into the tree (`condition.any.1.op`) or at `condition_text` (line, column)."""
    require_role(*AUTHORS)
    _check_people(data)
    return rpc("assignment", "create_rule", data)


@blp.route("", methods=["GET"])
@blp.arguments(Paging, location="query")
def list_rules(args):
    return rpc("assignment", "list_rules", args.get("limit"), args.get("cursor"))


@blp.route("/<rule_id>", methods=["GET"])
def get_rule(rule_id):
    return rpc("assignment", "get_rule", rule_id)


@blp.route("/<rule_id>", methods=["PATCH"])
@blp.arguments(RulePatch)
def update_rule(data, rule_id):
    """Change a rule; `version` goes up. Leads it already decided are not reassigned."""
    require_role(*AUTHORS)
    _check_people(data)
    return rpc("assignment", "update_rule", rule_id, data)


@blp.route("/<rule_id>", methods=["DELETE"])
@blp.response(204)
def delete_rule(rule_id):
    """The rule goes and leaves its campaigns; its decisions stay in the leads' assignment logs."""
    require_role(*AUTHORS)
    rpc("assignment", "delete_rule", rule_id)


@blp.route("/<rule_id>/apply", methods=["POST"])
@blp.arguments(LeadIdsIn)
def apply_rule(data, rule_id):
    """A6: run the rule now on leads the caller owns or manages; the caller must be in `usable_by`
    (empty: any marketing or manager role), else 403. → `{"assigned", "unmatched", "skipped"}`;
    `skipped` are leads that have assignees already (a manual assignment is never overridden) or
    that this rule decided before."""
    return rpc("assignment", "apply_rule", rule_id, data)


@blp.route("/<rule_id>/preview", methods=["POST"])
@blp.arguments(PreviewIn)
def preview_rule(data, rule_id):
    """A8: `{"matched", "unmatched", "near_misses": [{"lead_id", "why"}]}` over the leads named
    and/or a campaign's leads (as the assignment service last heard of them)."""
    require_role(*AUTHORS)
    return rpc("assignment", "preview_rule", rule_id, data)


@blp.route("/<rule_id>/lint", methods=["GET"])
def lint_rule(rule_id):
    """A8: `{"findings": [{"kind": "never_matches"|"always_true"|"shadowed", "message", …}]}`."""
    return rpc("assignment", "lint_rule", rule_id)


@campaign_rules_blp.route("/<campaign_id>/rules", methods=["PUT"])
@campaign_rules_blp.arguments(CampaignRuleIn(many=True))
def set_campaign_rules(data, campaign_id):
    """A6: replace the campaign's rules: `[{"rule_id", "priority"?}]` (lowest priority runs first)."""
    require_role(*AUTHORS)
    rpc("campaign", "authorize_campaign", campaign_id, "edit")
    return rpc("assignment", "set_campaign_rules", campaign_id, data)


@campaign_rules_blp.route("/<campaign_id>/rules", methods=["GET"])
def get_campaign_rules(campaign_id):
    rpc("campaign", "authorize_campaign", campaign_id, "view")
    return rpc("assignment", "get_campaign_rules", campaign_id)
