"""marshmallow schemas at the assignment service's RPC boundary."""
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from .model import DISTRIBUTIONS

PERMISSION = validate.OneOf(("read", "edit"))


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Permissions(Strict):
    contact = fields.String(load_default="edit", validate=PERMISSION)
    company = fields.String(load_default="edit", validate=PERMISSION)
    need = fields.String(load_default="edit", validate=PERMISSION)


class Recipient(Strict):
    """A user, or a team (its active members when a lead is decided) (A2)."""
    user_id = fields.String(validate=validate.Length(min=1, max=64))
    team = fields.String(validate=validate.Length(min=1, max=200))
    weight = fields.Integer(validate=validate.Range(min=1, max=1000))  # distribution "weighted"
    permissions = fields.Nested(Permissions, load_default=lambda: {"contact": "edit", "company": "edit",
                                                                    "need": "edit"})

    @validates_schema
    def one_of_user_or_team(self, data, **kwargs):
        if bool(data.get("user_id")) == bool(data.get("team")):
            raise ValidationError("Name a user_id or a team (one of them).", "user_id")


class RuleFields(Strict):
    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=10000))
    active = fields.Boolean()
    usable_by = fields.List(fields.String(validate=validate.Length(min=1, max=64)))
    recipients = fields.List(fields.Nested(Recipient), validate=validate.Length(min=1, max=500))
    distribution = fields.String(validate=validate.OneOf(DISTRIBUTIONS))
    condition = fields.Dict(allow_none=True)
    condition_text = fields.String(allow_none=True, validate=validate.Length(max=10000))
    continue_ = fields.Boolean(data_key="continue")

    @post_load
    def _continue(self, data, **kwargs):
        if "continue_" in data:
            data["continue"] = data.pop("continue_")
        return data


class CreateRule(RuleFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    recipients = fields.List(fields.Nested(Recipient), required=True, validate=validate.Length(min=1, max=500))
    active = fields.Boolean(load_default=True)
    usable_by = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list)
    distribution = fields.String(load_default="all", validate=validate.OneOf(DISTRIBUTIONS))


class UpdateRule(RuleFields):
    """PATCH: only what is sent changes."""


class CampaignRule(Strict):
    rule_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    priority = fields.Integer(validate=validate.Range(min=-1000000, max=1000000))


class LeadIds(Strict):
    lead_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                           validate=validate.Length(min=1, max=1000))
    campaign_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
