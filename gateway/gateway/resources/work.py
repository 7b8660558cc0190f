"""Work on leads (API.md "Leads", "Opportunities"): activities and their effort (L12, C4), conversion
(L10), opportunities (L11) and deleting a lead without losing its effort (C7).

Money is a decimal string or number with 2 decimals (0 to 999999999999) and comes back as a string;
effort hours are numbers, more than 0 and at most 24. Who may do what is the lead service's call.
"""
from datetime import timezone

from flask_smorest import Blueprint
from marshmallow import fields, validate

from ..auth import rpc
from ..schemas import Long, Paging, Short, Strict

blp = Blueprint("lead_work", __name__, url_prefix="/api/v1/leads",
                description="Activities, conversion and deletion of a lead (L10, L12, C4, C7)")
activities_blp = Blueprint("activities", __name__, url_prefix="/api/v1/activities",
                           description="Activities across leads, deleted leads' included (C4, C7)")
opportunities_blp = Blueprint("opportunities", __name__, url_prefix="/api/v1/opportunities",
                              description="Opportunities (L11)")
accounts_blp = Blueprint("accounts", __name__, url_prefix="/api/v1/accounts",
                         description="Accounts converted leads became (L10)")
BLUEPRINTS = (blp, activities_blp, opportunities_blp, accounts_blp)

MAX_MONEY = 10 ** 12 - 1
NAME = validate.Length(min=1, max=200)
ID = validate.Length(min=1, max=32)


def Money(**kw):  # noqa: N802 - a field factory, like Short and Long
    return fields.Decimal(places=2, validate=validate.Range(min=0, max=MAX_MONEY), **kw)


def Probability(**kw):  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=100), **kw)


STAGE = validate.OneOf(("qualification", "needs_analysis", "proposal", "negotiation"))


class ActivityIn(Strict):
    type = fields.String(required=True, validate=validate.OneOf(("task", "call", "meeting", "visit", "email")))
    subject = fields.String(required=True, validate=NAME)
    effort_hours = fields.Decimal(required=True, places=2, metadata={"description": "Hours, > 0 and ≤ 24."},
                                  validate=validate.Range(min=0, min_inclusive=False, max=24))
    cost = Money(allow_none=True)
    outcome = Long()
    occurred_at = fields.AwareDateTime(allow_none=True, default_timezone=timezone.utc,
                                       metadata={"description": "When it happened; default now."})
    opportunity_id = fields.String(allow_none=True, validate=ID,
                                   metadata={"description": "One of the lead's opportunities."})


class OpportunityIn(Strict):
    name = fields.String(required=True, validate=NAME)
    amount = Money(required=True)
    expected_close = fields.Date(allow_none=True)
    stage = fields.String(allow_none=True, validate=STAGE)
    probability = Probability(allow_none=True, metadata={"description": "Default: the stage's."})


class AccountIn(Strict):
    name = Short(metadata={"description": "Default: the company name, else the contact name."})


class ConvertIn(Strict):
    opportunities = fields.List(fields.Nested(OpportunityIn), required=True, validate=validate.Length(min=1, max=20))
    account = fields.Nested(AccountIn, allow_none=True)


class OpportunityPatch(Strict):
    name = fields.String(validate=NAME)
    amount = Money()
    stage = fields.String(validate=STAGE)
    probability = Probability()
    expected_close = fields.Date(allow_none=True)


class WonIn(Strict):
    amount = Money(allow_none=True, metadata={"description": "Default: the opportunity's amount."})


class LostIn(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class ActivityFilters(Paging):
    campaign_id = fields.String(validate=ID)
    lead_id = fields.String(validate=ID)
    worker_id = fields.String(validate=ID)


class OpportunityFilters(Paging):
    campaign_id = fields.String(validate=ID)
    lead_id = fields.String(validate=ID)
    status = fields.String(validate=validate.OneOf(("open", "won", "lost")))


def _listed(method, args):
    """A filtered list: the query's filters, then its page."""
    limit, cursor = args.pop("limit", None), args.pop("cursor", None)
    return rpc("lead", method, args, limit, cursor)


# -- on a lead ----------------------------------------------------------------------------------------

@blp.route("/<lead_id>/activities", methods=["POST"])
@blp.arguments(ActivityIn)
@blp.response(201)
def log_activity(data, lead_id):
    """Log work done on the lead, with its effort in hours (L12); it counts for the lead's campaign
    (C4). The lead's owner, its assignees, admins and marketing directors."""
    return rpc("lead", "log_activity", lead_id, data)


@blp.route("/<lead_id>/activities", methods=["GET"])
@blp.arguments(Paging, location="query")
def lead_activities(args, lead_id):
    """The lead's activities, oldest first."""
    return rpc("lead", "list_lead_activities", lead_id, args.get("limit"), args.get("cursor"))


@blp.route("/<lead_id>/convert", methods=["POST"])
@blp.arguments(ConvertIn)
@blp.response(201)
def convert(data, lead_id):
    """Convert a raw, usable or working lead (else 409) into an account and 1 to 20 opportunities,
    each keeping the lead, its campaign and pool (L10); the lead becomes `converted` (final).
    The owner, an assignee who may edit a section, admins and marketing directors."""
    return rpc("lead", "convert_lead", lead_id, data)


@blp.route("/<lead_id>", methods=["DELETE"])
@blp.response(204)
def delete_lead(lead_id):
    """Delete a lead (C7): it is no longer found and its personal data is blanked, but its
    activities, opportunities and campaign attribution stay and keep counting. The owner, admins
    and marketing directors."""
    rpc("lead", "delete_lead", lead_id)


# -- across leads -------------------------------------------------------------------------------------

@activities_blp.route("", methods=["GET"])
@activities_blp.arguments(ActivityFilters, location="query")
def list_activities(args):
    """Activities by campaign, lead or worker, oldest first, including those of deleted leads (C7)."""
    return _listed("list_activities", args)


@opportunities_blp.route("", methods=["GET"])
@opportunities_blp.arguments(OpportunityFilters, location="query")
def list_opportunities(args):
    """Opportunities by campaign, lead or status, newest first."""
    return _listed("list_opportunities", args)


@opportunities_blp.route("/<opportunity_id>", methods=["GET"])
def get_opportunity(opportunity_id):
    return rpc("lead", "get_opportunity", opportunity_id)


@opportunities_blp.route("/<opportunity_id>", methods=["PATCH"])
@opportunities_blp.arguments(OpportunityPatch)
def update_opportunity(data, opportunity_id):
    """Amount, stage, probability, expected close; a won or lost opportunity → 409. Its owner, the
    lead's owner, admins, marketing directors and sales managers."""
    return rpc("lead", "update_opportunity", opportunity_id, data)


@opportunities_blp.route("/<opportunity_id>/won", methods=["POST"])
@opportunities_blp.arguments(WonIn, required=False)
def win(data, opportunity_id):
    """Won (final), for `amount` or else the opportunity's amount; it counts for the campaign (L11)."""
    return rpc("lead", "win_opportunity", opportunity_id, data or {})


@opportunities_blp.route("/<opportunity_id>/lost", methods=["POST"])
@opportunities_blp.arguments(LostIn)
def lose(data, opportunity_id):
    """Lost (final), with a reason."""
    return rpc("lead", "lose_opportunity", opportunity_id, data)


@accounts_blp.route("/<account_id>", methods=["GET"])
def get_account(account_id):
    return rpc("lead", "get_account", account_id)
