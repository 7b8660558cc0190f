"""marshmallow schemas at the lead service's RPC boundary."""
import re
from datetime import timezone

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, pre_load, validate

from crmkit.errors import load_or_invalid

SHORT = validate.Length(max=200)
LONG = validate.Length(max=10000)
_PHONE = re.compile(r"^[0-9+()\-.\s/#xX转]{3,40}$")


def _phone(value):
    if value and (not _PHONE.match(value) or sum(c.isdigit() for c in value) < 3):
        raise ValidationError("Not a valid phone number.")


def short(**kw):
    return fields.String(allow_none=True, validate=SHORT, **kw)


def phone_number(**kw):
    return fields.String(allow_none=True, validate=[SHORT, _phone], **kw)


def email_address(**kw):
    return fields.Email(allow_none=True, validate=SHORT, **kw)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Contact(Strict):
    name = short()
    title = short()
    phone = phone_number()
    mobile = phone_number()
    email = email_address()


class Company(Strict):
    name = short()
    industry = short()
    city = short()
    province = short()
    country = short()
    address = fields.String(allow_none=True, validate=LONG)
    phone = phone_number()
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
    unassigned = fields.Boolean()


class PoolIn(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_id = fields.String(allow_none=True, validate=validate.Length(max=32))
    team = fields.String(allow_none=True, validate=validate.Length(max=100))
    claim_limit = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=100000))
    recycle_days = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=3650))
    cooldown_hours = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=87600))


class ClaimIn(Strict):
    count = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=100))


class MergeIn(Strict):
    into = fields.String(required=True, validate=validate.Length(min=1, max=32))
    from_ = fields.List(fields.String(validate=validate.Length(min=1, max=32)), required=True, data_key="from",
                        validate=validate.Length(min=1, max=50))


class RuleAssignment(Strict):
    lead_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    assignments = fields.List(fields.Nested(Assignment), required=True)
    decision_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    actor_id = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, validate=LONG)


# -- intake (C6) ------------------------------------------------------------------------------------------

ROUTE_KEY = validate.Regexp(r"^[A-Za-z0-9_-]{3,100}$", error="3 to 100 letters, digits, - or _.")
ID = validate.Length(min=1, max=32)


class CreateIntakeRoute(Strict):
    key = fields.String(required=True, validate=ROUTE_KEY)
    campaign_id = fields.String(required=True, validate=ID)
    owner_id = fields.String(allow_none=True, validate=ID)
    pool_id = fields.String(allow_none=True, validate=ID)
    rule_id = fields.String(allow_none=True, validate=ID)


class UpdateIntakeRoute(Strict):
    active = fields.Boolean()
    owner_id = fields.String(allow_none=True, validate=ID)
    pool_id = fields.String(allow_none=True, validate=ID)
    rule_id = fields.String(allow_none=True, validate=ID)


# A web form's flat field → (section, field) of the lead.
FORM_FIELDS = {
    "name": ("contact", "name"), "title": ("contact", "title"), "email": ("contact", "email"),
    "phone": ("contact", "phone"), "mobile": ("contact", "mobile"),
    "company": ("company", "name"), "industry": ("company", "industry"), "city": ("company", "city"),
    "province": ("company", "province"), "need": ("need", "description"),
    "utm_source": ("utm", "source"), "utm_medium": ("utm", "medium"), "utm_campaign": ("utm", "campaign"),
}


class PatchLead(Strict):
    """L1/L3/L5: sections merge field by field (null clears one); tags are replaced."""
    contact = fields.Nested(Contact, allow_none=True)
    company = fields.Nested(Company, allow_none=True)
    need = fields.Nested(Need, allow_none=True)
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=50)), allow_none=True,
                       validate=validate.Length(max=100))
    campaign_id = short()
    pool_id = short()
    owner_id = fields.String(validate=validate.Length(min=1, max=32))


class StatusChange(Strict):
    status = fields.String(required=True, validate=validate.OneOf(("raw", "usable", "working", "converted",
                                                                  "invalid")))
    reason = fields.String(allow_none=True, validate=SHORT)
    note = fields.String(allow_none=True, validate=LONG)


class ResponseIn(Strict):
    response = fields.String(required=True, validate=validate.OneOf(("accepted", "not_accepted", "not_reached")))
    note = fields.String(allow_none=True, validate=LONG)
    at = fields.AwareDateTime(allow_none=True, default_timezone=timezone.utc)


class QualityIn(Strict):
    valid = fields.Boolean(required=True)
    reachable = fields.Boolean(required=True)
    intent = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    note = fields.String(allow_none=True, validate=LONG)


class IntakeForm(Schema):
    """A web form's flat fields, with the lead's own rules; other fields (buttons…) are ignored.

    Loads into a create_lead command: {"contact", "company", "need", "utm"}. Errors name the
    form's field (`email`).
    """
    class Meta:
        unknown = EXCLUDE

    name, title, company, industry, city, province = short(), short(), short(), short(), short(), short()
    email = email_address()
    phone, mobile = phone_number(), phone_number()
    need = fields.String(allow_none=True, validate=LONG)
    utm_source, utm_medium, utm_campaign = short(), short(), short()

    @pre_load
    def _drop_blanks(self, data, **kwargs):
        """A form posts its empty inputs as "": they are not given, not invalid."""
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}

    @post_load
    def _to_lead(self, data, **kwargs):
        cmd = {"contact": {}, "company": {}, "need": {}, "utm": {}}
        for name, value in data.items():
            section, key = FORM_FIELDS[name]
            cmd[section][key] = value
        return cmd


_ITEM_KEYS = {"lead_id", "assignments", "decision_key", "actor_id", "correlation_id", "reason"}
_LEVELS = {"read", "edit"}


def _id_ok(value, nullable=False):
    return (value is None and nullable) or (isinstance(value, str) and (nullable or 0 < len(value) <= 64))


def _assignment_ok(a):
    perms = a.get("permissions", {}) if isinstance(a, dict) else None
    return (isinstance(a, dict) and set(a) <= {"user_id", "permissions"} and _id_ok(a.get("user_id"))
            and isinstance(perms, dict) and set(perms) <= {"contact", "company", "need"}
            and all(v in _LEVELS for v in perms.values()))


def load_rule_assignments(items) -> list:
    """RuleAssignment(many=True).load, with a fast path: the assignment service sends thousands a
    second and the schema cost more than applying them. Items of exactly the expected shape pass
    as they are (permissions defaulted); anything else goes through the schema and its messages."""
    if isinstance(items, list) and all(
            isinstance(i, dict) and set(i) <= _ITEM_KEYS and _id_ok(i.get("lead_id")) and _id_ok(i.get("decision_key"))
            and _id_ok(i.get("actor_id"), True) and _id_ok(i.get("correlation_id"), True)
            and (i.get("reason") is None or (isinstance(i["reason"], str) and len(i["reason"]) <= 10000))
            and isinstance(i.get("assignments"), list) and all(map(_assignment_ok, i["assignments"]))
            for i in items):
        return [{**i, "assignments": [{"user_id": a["user_id"], "permissions": dict(a.get("permissions") or {})}
                                      for a in i["assignments"]]} for i in items]
    return load_or_invalid(_RULE_ASSIGNMENTS, items)


_RULE_ASSIGNMENTS = RuleAssignment(many=True)
