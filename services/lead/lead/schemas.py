"""marshmallow schemas at the lead service's RPC boundary."""
import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate

SHORT = validate.Length(max=200)
LONG = validate.Length(max=10000)
_PHONE = re.compile(r"^[0-9+()\-.\s/#xX转]{3,40}$")


def _phone(value):
    if value and (not _PHONE.match(value) or sum(c.isdigit() for c in value) < 3):
        raise ValidationError("Not a valid phone number.")


def short(**kw):
    return fields.String(allow_none=True, validate=SHORT, **kw)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Contact(Strict):
    name = short()
    title = short()
    phone = fields.String(allow_none=True, validate=[SHORT, _phone])
    mobile = fields.String(allow_none=True, validate=[SHORT, _phone])
    email = fields.Email(allow_none=True, validate=SHORT)


class Company(Strict):
    name = short()
    industry = short()
    city = short()
    province = short()
    country = short()
    address = fields.String(allow_none=True, validate=LONG)
    phone = fields.String(allow_none=True, validate=[SHORT, _phone])
    website = short()


class Need(Strict):
    description = fields.String(allow_none=True, validate=LONG)
    products = fields.String(allow_none=True, validate=LONG)
    budget = short()
    timeframe = short()


class CreateLead(Strict):
    campaign_id = short()
    pool_id = short()
    owner_id = short()
    source = fields.String(allow_none=True, validate=validate.Length(max=50))
    contact = fields.Nested(Contact, allow_none=True)
    company = fields.Nested(Company, allow_none=True)
    need = fields.Nested(Need, allow_none=True)
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=50)), allow_none=True)


class Permissions(Strict):
    contact = fields.String(validate=validate.OneOf(("read", "edit")))
    company = fields.String(validate=validate.OneOf(("read", "edit")))
    need = fields.String(validate=validate.OneOf(("read", "edit")))


class Assignment(Strict):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    permissions = fields.Nested(Permissions, load_default=dict)


class LeadFilters(Schema):
    class Meta:
        unknown = RAISE

    campaign_id = fields.String()
    status = fields.String()
    owner_id = fields.String()
    assignee_id = fields.String()
    pool_id = fields.String()
    source = fields.String()
    tag = fields.String()
    q = fields.String(validate=SHORT)


class RuleAssignment(Strict):
    lead_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    assignments = fields.List(fields.Nested(Assignment), required=True)
    decision_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    actor_id = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, validate=LONG)
