"""marshmallow schemas at the campaign service's RPC boundary."""
from marshmallow import RAISE, Schema, fields, validate

from .model import LEVELS, STATUSES, TYPES

SHORT = validate.Length(max=200)
MAX_MONEY = 10 ** 12 - 1


class CampaignFields(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    status = fields.String(validate=validate.OneOf(STATUSES))
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    # Numeric(14, 2) in the database: a larger figure is a 422 here, not a 500 there.
    budget = fields.Decimal(allow_none=True, places=2, validate=validate.Range(min=0, max=MAX_MONEY))
    expected_revenue = fields.Decimal(allow_none=True, places=2, validate=validate.Range(min=0, max=MAX_MONEY))
    expected_leads = fields.Integer(allow_none=True, validate=validate.Range(min=0))
    currency = fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    parent_id = fields.String(allow_none=True, validate=SHORT)
    owner_id = fields.String(allow_none=True, validate=SHORT)
    description = fields.String(allow_none=True, validate=validate.Length(max=10000))


class CreateCampaign(CampaignFields):
    pass


class UpdateCampaign(CampaignFields):
    name = fields.String(validate=validate.Length(min=1, max=200))
    type = fields.String(validate=validate.OneOf(TYPES))


class CampaignFilters(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(STATUSES))
    type = fields.String(validate=validate.OneOf(TYPES))
    owner_id = fields.String(validate=SHORT)
    parent_id = fields.String(validate=SHORT)
    participant_id = fields.String(validate=SHORT)
    date_from = fields.Date()
    date_to = fields.Date()
    q = fields.String(validate=SHORT)
    include_archived = fields.Boolean()


class Participant(Schema):
    class Meta:
        unknown = RAISE

    user_id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    permission = fields.String(required=True, validate=validate.OneOf(LEVELS))


class ExpenseIn(Schema):
    class Meta:
        unknown = RAISE

    amount = fields.Decimal(required=True, places=2,
                            validate=validate.Range(min=0, min_inclusive=False, max=MAX_MONEY))
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    date = fields.Date(allow_none=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=10000))
    lead_id = fields.String(allow_none=True, validate=SHORT)
