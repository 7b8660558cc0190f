"""The lead service's Nameko entrypoints (no broker): thin translators that load schemas and raise
Invalid with flat field paths (API.md "Errors": 422 details map field paths to messages)."""
import pytest
from nameko.testing.services import worker_factory

from crmkit.context import RequestContext
from crmkit.errors import Invalid, NotFound
from lead.service import LeadService

CTX = RequestContext(user_id="u1", roles=("marketing_member",), correlation_id="corr-7")


@pytest.fixture
def service(uow, campaigns):
    return worker_factory(LeadService, storage=uow, ctx=CTX, campaign_rpc=campaigns)


def invalid_paths(call, *args, **kwargs):
    with pytest.raises(Invalid) as caught:
        call(*args, **kwargs)
    return caught.value.details


def test_a_good_payload_creates_a_lead_owned_by_the_caller(service, uow):
    lead = service.create_lead({"contact": {"name": " 张伟 ", "email": "zhang@acme.cn"},
                                "company": {"name": None}, "campaign_id": "C1"}, request_key="u1:k")

    assert lead["owner_id"] == "u1"
    assert lead["contact"]["name"] == "张伟"
    assert uow.published("lead.created")[0]["correlation_id"] == "corr-7"
    assert service.create_lead({"contact": {"name": "x"}}, request_key="u1:k")["id"] == lead["id"]


@pytest.mark.parametrize("payload, path", [
    ({"contact": {"name": "Li", "email": "not-an-email"}}, "contact.email"),
    ({"contact": {"name": "Li", "nickname": "Lee"}}, "contact.nickname"),
    ({"contact": {"name": "x" * 201}}, "contact.name"),
    ({"company": {"name": "ACME", "phone": "call me maybe"}}, "company.phone"),
    ({"company": {"name": "ACME", "address": "x" * 10001}}, "company.address"),
    ({"contact": {"name": "Li"}, "need": {"budget": 5}}, "need.budget"),
    ({"contact": {"name": "Li"}, "tags": ["ok", ""]}, "tags.1"),
    ({"contact": {"name": "Li"}, "colour": "red"}, "colour"),
    ({"contact": "Li"}, "contact"),
], ids=["email", "unknown-field", "too-long", "phone", "free-text-too-long", "not-a-string", "empty-tag",
        "unknown-top-level", "section-not-object"])
def test_a_bad_create_payload_is_invalid_with_the_fields_path_P3(service, uow, payload, path):
    assert path in invalid_paths(service.create_lead, payload)
    assert uow.published() == []


def test_a_payload_that_is_not_an_object_is_invalid_not_a_crash(service):
    assert "_schema" in invalid_paths(service.create_lead, ["contact", "name"])


def test_the_l1_rule_speaks_through_the_entrypoint_too(service):
    details = invalid_paths(service.create_lead, {"contact": {"email": "a@b.cn"}, "company": {"city": "上海"}})

    assert set(details) == {"contact.name", "company.name"}


def test_an_unknown_campaign_is_an_invalid_campaign_id(service):
    assert list(invalid_paths(service.create_lead, {"contact": {"name": "Li"}, "campaign_id": "NOPE"})) == \
        ["campaign_id"]


@pytest.mark.parametrize("assignments, path", [
    ([{"permissions": {"need": "read"}}], "0.user_id"),
    ([{"user_id": "s1", "permissions": {"need": "write"}}], "0.permissions.need"),
    ([{"user_id": "s1"}, {"user_id": "s2", "permissions": {"phone": "edit"}}], "1.permissions.phone"),
    ([{"user_id": ""}], "0.user_id"),
    ({"user_id": "s1"}, "_schema"),
], ids=["no-user", "bad-permission", "unknown-section", "empty-user", "not-a-list"])
def test_a_bad_assignment_is_invalid_with_the_items_path(service, assignments, path):
    lead = service.create_lead({"contact": {"name": "Li"}})

    assert path in invalid_paths(service.assign_lead, lead["id"], assignments)


def test_a_rule_assignment_keeps_its_channel_and_reason_in_the_history_A10(service):
    lead = service.create_lead({"contact": {"name": "Li"}})

    service.assign_lead(lead["id"], [{"user_id": "s1"}], decision_key="ev-1", channel="rule",
                        reason="rule 'Shanghai' matched")

    entry = service.get_history(lead["id"])["items"][-1]
    assert (entry["action"], entry["channel"], entry["reason"]) == ("assigned", "rule", "rule 'Shanghai' matched")


@pytest.mark.parametrize("filters, path", [({"colour": "red"}, "colour"), ({"q": "x" * 201}, "q")])
def test_an_unknown_or_bad_list_filter_is_invalid(service, filters, path):
    assert path in invalid_paths(service.list_leads, filters)


@pytest.mark.parametrize("kwargs, path", [({"cursor": "@@@"}, "cursor"), ({"limit": 500}, "limit")])
def test_a_bad_cursor_or_limit_is_invalid(service, kwargs, path):
    assert path in invalid_paths(service.list_leads, None, **kwargs)


def test_an_unknown_lead_is_not_found(service):
    with pytest.raises(NotFound):
        service.get_lead("nope")


def test_a_campaign_event_updates_the_services_copy_of_campaigns(service, uow):
    event = {"event_id": "ev-c", "type": "campaign.updated", "version": 1, "occurred_at": "x",
             "data": {"id": "C9", "status": "active", "archived": False}}

    service.on_campaign_event(event)

    assert uow.state["campaigns"]["C9"].status == "active"
    assert ("ev-c", "lead.on_campaign_event") in uow.inbox
