"""marshmallow schemas of activities, conversion and opportunities at the lead service's RPC boundary.

Optional fields may be omitted or null. Money is a decimal (string or number) from 0 to
999999999999 with 2 places; effort is more than 0 and at most 24 hours.
"""
from datetime import timezone

from marshmallow import fields, validate

from .schemas import ID, LONG, SHORT, Strict
from .work import ACTIVITY_TYPES, MAX_EFFORT_HOURS, MAX_MONEY, STAGES

NAME = validate.Length(min=1, max=200)


def money(**kw):
    return fields.Decimal(places=2, validate=validate.Range(min=0, max=MAX_MONEY), **kw)


def probability(**kw):
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=100), **kw)


def stage(**kw):
    return fields.String(validate=validate.OneOf(STAGES), **kw)


class LogActivity(Strict):
    type = fields.String(required=True, validate=validate.OneOf(ACTIVITY_TYPES))
    subject = fields.String(required=True, validate=NAME)
    effort_hours = fields.Decimal(required=True, places=2, validate=validate.Range(
        min=0, min_inclusive=False, max=MAX_EFFORT_HOURS, error="Must be more than 0 and at most 24."))
    cost = money(allow_none=True)
    outcome = fields.String(allow_none=True, validate=LONG)
    occurred_at = fields.AwareDateTime(allow_none=True, default_timezone=timezone.utc)
    opportunity_id = fields.String(allow_none=True, validate=ID)


class NewOpportunity(Strict):
    name = fields.String(required=True, validate=NAME)
    amount = money(required=True)
    expected_close = fields.Date(allow_none=True)
    stage = stage(allow_none=True)
    probability = probability(allow_none=True)


class NewAccount(Strict):
    name = fields.String(allow_none=True, validate=SHORT)


class ConvertLead(Strict):
    opportunities = fields.List(fields.Nested(NewOpportunity), required=True,
                                validate=validate.Length(min=1, max=20))
    account = fields.Nested(NewAccount, allow_none=True)


class UpdateOpportunity(Strict):
    name = fields.String(validate=NAME)
    amount = money()
    stage = stage()
    probability = probability()
    expected_close = fields.Date(allow_none=True)


class WinOpportunity(Strict):
    amount = money(allow_none=True)


class LoseOpportunity(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class ActivityFilters(Strict):
    campaign_id = fields.String(validate=ID)
    lead_id = fields.String(validate=ID)
    worker_id = fields.String(validate=ID)


class OpportunityFilters(Strict):
    campaign_id = fields.String(validate=ID)
    lead_id = fields.String(validate=ID)
    status = fields.String(validate=validate.OneOf(("open", "won", "lost")))
