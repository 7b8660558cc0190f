"""The lead service's Nameko entrypoints (no broker): thin translators that load schemas and raise
Invalid with flat field paths (API.md "Errors": 422 details map field paths to messages)."""
import pytest
from nameko.testing.services import worker_factory

from crmkit.context import RequestContext
from crmkit.errors import Forbidden, Gone, Invalid, NotFound
from lead.service import LeadService

CTX = RequestContext(user_id="u1", roles=("marketing_member",), correlation_id="corr-7")


@pytest.fixture
def service(uow, campaigns, rules):
    return worker_factory(LeadService, storage=uow, ctx=CTX, campaign_rpc=campaigns, assignment_rpc=rules)


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


# -- web registrations (C6) -------------------------------------------------------------------------------

WEB_FORM = {"name": " 王芳 ", "title": "采购经理", "email": "wang@example.cn", "phone": "", "mobile": "13800138000",
            "company": "杭州某某机械", "industry": "制造", "city": "杭州", "province": "浙江", "need": "三台叉车",
            "utm_source": "baidu", "utm_medium": "cpc", "utm_campaign": "春季", "submit": "提交", "website": ""}


@pytest.fixture
def route(service):
    return service.create_intake_route({"key": "spring_expo-2026", "campaign_id": "C1", "rule_id": "R1"})


def test_a_web_forms_flat_fields_become_the_leads_sections_and_the_rest_is_ignored_C6(service, route):
    answer = service.intake("spring_expo-2026", WEB_FORM, request_key="intake:spring_expo-2026:corr")

    lead = service.get_lead(answer["lead_id"])
    assert {k: v for k, v in lead["contact"].items() if v} == {
        "name": "王芳", "title": "采购经理", "email": "wang@example.cn", "mobile": "13800138000"}
    assert {k: v for k, v in lead["company"].items() if v} == {
        "name": "杭州某某机械", "industry": "制造", "city": "杭州", "province": "浙江"}
    assert lead["need"]["description"] == "三台叉车"
    assert lead["utm"] == {"source": "baidu", "medium": "cpc", "campaign": "春季"}
    assert (lead["source"], lead["owner_id"], lead["rule_id"]) == ("web_form", "mkt1", "R1")


@pytest.mark.parametrize("form, path", [
    ({"name": "Li", "email": "not-an-email"}, "email"),
    ({"name": "Li", "phone": "call me"}, "phone"),
    ({"name": "x" * 201}, "name"),
    ({"name": "Li", "utm_source": "x" * 201}, "utm_source"),
    ({"name": "Li", "need": "x" * 10001}, "need"),
    ({"name": "Li", "city": 5}, "city"),
    (["name", "Li"], "_schema"),
], ids=["email", "phone", "too-long", "utm-too-long", "need-too-long", "not-a-string", "not-an-object"])
def test_a_bad_web_form_is_invalid_with_the_forms_field_name_and_stores_nothing_C6(service, uow, route, form, path):
    assert path in invalid_paths(service.intake, "spring_expo-2026", form)
    assert uow.published("lead.created") == []


def test_a_web_form_with_neither_name_nor_company_is_invalid_L1_C6(service, route):
    assert set(invalid_paths(service.intake, "spring_expo-2026", {"email": "a@b.cn", "company": " "})) == \
        {"contact.name", "company.name"}


def test_an_unknown_or_switched_off_form_is_not_found_or_gone_C6(service, route):
    with pytest.raises(NotFound):
        service.intake("nope", {"name": "Li"})
    with pytest.raises(NotFound):  # the key answers before the fields
        service.intake("nope", {"email": "not-an-email"})
    service.update_intake_route("spring_expo-2026", {"active": False})
    with pytest.raises(Gone):
        service.intake("spring_expo-2026", {"name": "Li"})
    with pytest.raises(Gone):
        service.intake("spring_expo-2026", {"email": "not-an-email"})


@pytest.mark.parametrize("payload, path", [
    ({"key": "ab", "campaign_id": "C1"}, "key"),
    ({"key": "有中文的键", "campaign_id": "C1"}, "key"),
    ({"key": "a/b/c", "campaign_id": "C1"}, "key"),
    ({"key": "k" * 101, "campaign_id": "C1"}, "key"),
    ({"key": "expo"}, "campaign_id"),
    ({"key": "expo", "campaign_id": "C1", "colour": "red"}, "colour"),
    ({"key": "expo", "campaign_id": "C1", "rule_id": "R404"}, "rule_id"),
], ids=["short-key", "chinese-key", "slashes", "long-key", "no-campaign", "unknown-field", "unknown-rule"])
def test_a_bad_route_is_invalid_with_the_fields_path_C6(service, uow, payload, path):
    assert path in invalid_paths(service.create_intake_route, payload)
    assert uow.published() == []


def test_a_route_is_read_listed_and_changed_through_the_entrypoints_C6(service, route):
    changed = service.update_intake_route("spring_expo-2026", {"pool_id": "P2", "owner_id": "sales9"})

    assert (changed["pool_id"], changed["owner_id"]) == ("P2", "sales9")
    assert service.get_intake_route("spring_expo-2026") == changed
    assert service.list_intake_routes()["items"] == [changed]
    assert "active" in invalid_paths(service.update_intake_route, "spring_expo-2026", {"active": "perhaps"})


def test_a_route_on_a_campaign_the_caller_may_not_edit_is_forbidden_C6(service):
    with pytest.raises(Forbidden):
        service.create_intake_route({"key": "theirs", "campaign_id": "THEIRS"})
