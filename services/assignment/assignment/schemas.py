"""marshmallow schemas at the assignment service's RPC boundary."""
from marshmallow import RAISE, Schema, fields, validate

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
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    permissions = fields.Nested(Permissions, load_default=lambda: {"contact": "edit", "company": "edit",
                                                                    "need": "edit"})


class CreateRule(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=10000))
    active = fields.Boolean(load_default=True)
    usable_by = fields.List(fields.String(), load_default=list)
    recipients = fields.List(fields.Nested(Recipient), required=True,
                             validate=validate.Length(min=1, max=500))
    distribution = fields.String(load_default="all", validate=validate.OneOf(DISTRIBUTIONS))
    condition = fields.Dict(allow_none=True)
    condition_text = fields.String(allow_none=True, validate=validate.Length(max=10000))
