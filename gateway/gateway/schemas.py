"""Request schemas of the public API: they document the contract (OpenAPI) and reject
malformed shapes early. Domain rules (e.g. a lead needs a contact or company name)
are checked by the owning service, which answers 422 with field paths too."""
from marshmallow import RAISE, Schema, fields, validate

from .auth import ROLES

Short = lambda **kw: fields.String(allow_none=True, validate=validate.Length(max=200), **kw)  # noqa: E731
Long = lambda **kw: fields.String(allow_none=True, validate=validate.Length(max=10000), **kw)  # noqa: E731
PERMISSION = validate.OneOf(("read", "edit"))


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Paging(Strict):
    limit = fields.Integer(validate=validate.Range(min=1, max=200))
    cursor = fields.String()


class UserIn(Strict):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = Short()
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), load_default=list)
    team = Short()
    hourly_rate = fields.Decimal(allow_none=True, places=2, as_string=True, validate=validate.Range(min=0))


class UserPatch(Strict):
    name = Short()
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)))
    team = Short()
    hourly_rate = fields.Decimal(allow_none=True, places=2, as_string=True, validate=validate.Range(min=0))
    active = fields.Boolean()


class SettingsPatch(Strict):
    permission_conflict_policy = fields.String(validate=validate.OneOf(
        ("assignment_wins", "role_wins", "most_permissive", "most_restrictive")))
    default_hourly_rate = fields.Decimal(places=2, as_string=True, validate=validate.Range(min=0, max=10 ** 6))


class CampaignIn(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True)
    status = fields.String()
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    budget = fields.Decimal(allow_none=True, as_string=True)
    expected_revenue = fields.Decimal(allow_none=True, as_string=True)
    expected_leads = fields.Integer(allow_none=True)
    currency = Short()
    parent_id = Short()
    owner_id = Short()
    description = Long()


class CampaignPatch(CampaignIn):
    name = fields.String(validate=validate.Length(min=1, max=200))
    type = fields.String()


class CampaignFilters(Paging):
    status = fields.String()
    type = fields.String()
    owner_id = fields.String()
    parent_id = fields.String()
    participant_id = fields.String(metadata={"description": "Campaigns this user takes part in."})
    date_from = fields.Date(metadata={"description": "Campaigns running on or after this day (no end date: "
                                                     "still running). Campaigns without dates never match."})
    date_to = fields.Date(metadata={"description": "Campaigns running on or before this day (no start date: "
                                                   "from any time)."})
    q = fields.String(metadata={"description": "Text in the name or the description."})
    include_archived = fields.Boolean()


class ParticipantIn(Strict):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    permission = fields.String(required=True, validate=validate.OneOf(("view", "edit", "manage")))


class ExpenseIn(Strict):
    amount = fields.Decimal(required=True, as_string=True)
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    date = fields.Date(allow_none=True)
    note = Long()
    lead_id = Short()


class ExpenseFilters(Paging):
    include_removed = fields.Boolean()


class RuleRef(Strict):
    rule_id = fields.String(required=True)


class Contact(Strict):
    name, title, phone, mobile, email = Short(), Short(), Short(), Short(), Short()


class Company(Strict):
    name, industry, city, province, country = Short(), Short(), Short(), Short(), Short()
    address, phone, website = Long(), Short(), Short()


class Need(Strict):
    description, products, budget, timeframe = Long(), Long(), Short(), Short()


class LeadIn(Strict):
    campaign_id = Short()
    pool_id = Short()
    owner_id = Short()
    source = Short()
    contact = fields.Nested(Contact, allow_none=True)
    company = fields.Nested(Company, allow_none=True)
    need = fields.Nested(Need, allow_none=True)
    tags = fields.List(fields.String(), allow_none=True)


class LeadPatch(Strict):
    """Only what is sent changes: a section's fields merge (null clears one); tags are replaced."""
    contact = fields.Nested(Contact, allow_none=True)
    company = fields.Nested(Company, allow_none=True)
    need = fields.Nested(Need, allow_none=True)
    tags = fields.List(fields.String(), allow_none=True)
    campaign_id = Short()
    pool_id = Short()
    owner_id = fields.String(validate=validate.Length(min=1, max=32))


class StatusIn(Strict):
    status = fields.String(required=True, metadata={"description": "raw, usable, working or invalid"})
    reason = Short(metadata={"description": "For invalid: unreachable, mail_returned, no_need, duplicate, "
                                            "wrong_data, competitor, other — or your own words (kept as other)."})
    note = Long()


class ResponseIn(Strict):
    response = fields.String(required=True, validate=validate.OneOf(("accepted", "not_accepted", "not_reached")))
    note = Long()
    at = fields.AwareDateTime(allow_none=True)


class QualityIn(Strict):
    valid = fields.Boolean(required=True)
    reachable = fields.Boolean(required=True)
    intent = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    note = Long()


class MergeIn(Strict):
    into = fields.String(required=True, metadata={"description": "The lead that stays."})
    from_ = fields.List(fields.String(), required=True, data_key="from",
                        metadata={"description": "The duplicates folded into it; they become tombstones."})


class LeadFilters(Paging):
    unassigned = fields.Boolean(metadata={"description": "true: leads without any assignee (no rule "
                                                         "matched and nobody assigned them)."})
    campaign_id = fields.String()
    status = fields.String()
    owner_id = fields.String()
    assignee_id = fields.String()
    pool_id = fields.String()
    source = fields.String()
    tag = fields.String()
    q = fields.String()


class Permissions(Strict):
    contact = fields.String(validate=PERMISSION)
    company = fields.String(validate=PERMISSION)
    need = fields.String(validate=PERMISSION)


class AssignmentIn(Strict):
    user_id = fields.String(required=True)
    permissions = fields.Nested(Permissions, load_default=dict)


class RecipientIn(Strict):
    """A user, or a team (its active members when a lead is decided); `weight` for "weighted"."""
    user_id = fields.String(validate=validate.Length(min=1, max=64))
    team = fields.String(validate=validate.Length(min=1, max=200))
    weight = fields.Integer(validate=validate.Range(min=1, max=1000))
    permissions = fields.Nested(Permissions, load_default=dict)


class RuleIn(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = Long()
    active = fields.Boolean()
    usable_by = fields.List(fields.String())
    recipients = fields.List(fields.Nested(RecipientIn), required=True)
    distribution = fields.String(metadata={"enum": ["all", "round_robin", "least_loaded", "weighted"]})
    condition = fields.Dict(allow_none=True, metadata={"description": "The tree; or send condition_text."})
    condition_text = Long(metadata={"description": 'e.g. company.city = "Shanghai" or region(company) = "北京"'})
    continue_ = fields.Boolean(data_key="continue", attribute="continue",
                               metadata={"description": "After a match, run the campaign's next rule too."})


class RulePatch(RuleIn):
    """Only what is sent changes; the version goes up."""
    name = fields.String(validate=validate.Length(min=1, max=200))
    recipients = fields.List(fields.Nested(RecipientIn))


class CampaignRuleIn(Strict):
    rule_id = fields.String(required=True)
    priority = fields.Integer(metadata={"description": "Lowest runs first; default: the list order."})


class LeadIdsIn(Strict):
    lead_ids = fields.List(fields.String(), required=True)


class PreviewIn(Strict):
    lead_ids = fields.List(fields.String())
    campaign_id = fields.String()