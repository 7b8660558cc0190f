"""Lead use cases against the fake unit of work (STYLE idiom 8)."""
from datetime import datetime, timezone

import pytest

from crmkit import paging
from crmkit.context import RequestContext
from crmkit.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from lead import handlers

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
READER = RequestContext(user_id="admin1", roles=("admin",))  # reads everything (L4)

CARD = {"contact": {"name": "张伟", "email": "zhang@acme.cn"}, "company": {"name": "ACME", "city": "上海"}}


def create(uow, ctx, campaigns, request_key=None, **cmd):
    return handlers.create_lead({**CARD, **cmd}, uow, ctx, campaigns.describe_campaign, request_key)


def test_creating_a_lead_emits_lead_created_with_the_callers_id_as_actor_L1_P2(uow, owner, campaigns):
    lead = create(uow, owner, campaigns, campaign_id="C1")

    [event] = uow.published()
    assert event["type"] == "lead.created"
    assert event["actor_id"] == "owner1"
    assert event["correlation_id"] == "req-1"
    assert event["data"]["id"] == lead["id"]
    assert event["data"]["campaign_id"] == "C1"
    assert event["data"]["contact"]["name"] == "张伟"


def test_a_lead_and_its_event_are_committed_once_together(uow, owner, campaigns):
    lead = create(uow, owner, campaigns)

    assert uow.commits == 1
    assert handlers.get_lead(lead["id"], uow, READER) == lead


def test_a_new_lead_is_raw_and_owned_by_the_caller_unless_someone_else_is_named_L2(uow, owner, campaigns):
    mine = create(uow, owner, campaigns)
    theirs = create(uow, owner, campaigns, owner_id="director7")

    assert (mine["status"], mine["owner_id"]) == ("raw", "owner1")
    assert theirs["owner_id"] == "director7"


def test_a_lead_without_contact_or_company_name_is_refused_and_leaves_nothing_L1(uow, owner, campaigns):
    with pytest.raises(Invalid) as caught:
        handlers.create_lead({"contact": {"email": "x@y.cn"}}, uow, owner, campaigns.describe_campaign)

    assert {"contact.name", "company.name"} <= set(caught.value.details)
    assert uow.published() == []
    assert handlers.list_leads({}, uow, READER)["items"] == []


def test_a_repeated_request_returns_the_same_lead_and_stores_it_once(uow, owner, campaigns):
    first = create(uow, owner, campaigns, request_key="owner1:abc")
    again = create(uow, owner, campaigns, request_key="owner1:abc")
    other = create(uow, owner, campaigns, request_key="owner1:def")

    assert again == first
    assert other["id"] != first["id"]
    assert len(uow.published("lead.created")) == 2
    assert len(handlers.list_leads({}, uow, READER)["items"]) == 2


def test_a_lead_cannot_join_a_campaign_that_does_not_exist(uow, owner, campaigns):
    with pytest.raises(Invalid) as caught:
        create(uow, owner, campaigns, campaign_id="NOPE")

    assert list(caught.value.details) == ["campaign_id"]
    assert uow.published() == []


def test_an_archived_campaign_refuses_new_leads_C8(uow, owner, campaigns):
    with pytest.raises(Conflict):
        create(uow, owner, campaigns, campaign_id="OLD")

    assert uow.published() == []


def test_the_campaign_service_is_asked_once_per_campaign(uow, owner, campaigns):
    create(uow, owner, campaigns, campaign_id="C1")
    create(uow, owner, campaigns, campaign_id="C1")
    create(uow, owner, campaigns, campaign_id="C2")

    assert campaigns.calls == ["C1", "C2"]


def test_a_campaign_archived_later_refuses_leads_once_its_event_arrives_C8(uow, owner, campaigns):
    create(uow, owner, campaigns, campaign_id="C1")
    event = {"event_id": "ev-archive", "type": "campaign.updated", "version": 1, "occurred_at": "x",
             "data": {"id": "C1", "status": "completed", "archived": True}}

    assert handlers.on_campaign_event(event, uow) is True
    assert handlers.on_campaign_event(event, uow) is False  # a redelivery changes nothing

    with pytest.raises(Conflict):
        create(uow, owner, campaigns, campaign_id="C1")


def test_the_creation_is_in_the_history_with_who_and_how_L15(uow, owner, campaigns):
    lead = create(uow, owner, campaigns)

    [entry] = handlers.get_history(lead["id"], uow, READER)["items"]

    assert entry["action"] == "created"
    assert entry["actor_id"] == "owner1"
    assert entry["channel"] == "api"
    assert entry["changes"]["contact.name"] == {"from": None, "to": "张伟"}
    assert entry["at"].endswith("Z")


def test_getting_a_lead_that_does_not_exist_is_not_found(uow):
    with pytest.raises(NotFound):
        handlers.get_lead("missing", uow, READER)
    with pytest.raises(NotFound):
        handlers.get_history("missing", uow, READER)


def test_leads_are_listed_newest_first_a_page_at_a_time(uow, owner, campaigns):
    ids = [create(uow, owner, campaigns)["id"] for _ in range(5)]

    first = handlers.list_leads({}, uow, READER, limit=2)
    second = handlers.list_leads({}, uow, READER, limit=2, cursor=first["next_cursor"])
    third = handlers.list_leads({}, uow, READER, limit=2, cursor=second["next_cursor"])

    seen = [lead["id"] for page in (first, second, third) for lead in page["items"]]
    assert seen == sorted(ids, reverse=True)
    assert third["next_cursor"] is None


def test_leads_are_filtered_by_campaign(uow, owner, campaigns):
    in_c1 = create(uow, owner, campaigns, campaign_id="C1")
    create(uow, owner, campaigns, campaign_id="C2")

    assert [l["id"] for l in handlers.list_leads({"campaign_id": "C1"}, uow, READER)["items"]] == [in_c1["id"]]


def test_a_bad_cursor_or_limit_is_invalid(uow):
    with pytest.raises(Invalid):
        handlers.list_leads({}, uow, READER, cursor="%%%")
    with pytest.raises(Invalid):
        handlers.list_leads({}, uow, READER, limit=0)


# -- assignment (L2, L3, A9) --------------------------------------------------------------------

@pytest.fixture
def lead(uow, owner, campaigns):
    return create(uow, owner, campaigns, campaign_id="C1")


def test_the_owner_assigns_a_lead_with_section_permissions_L2_L3(uow, owner, lead):
    result = handlers.assign_lead(lead["id"], [{"user_id": "sales1", "permissions": {"need": "read"}}],
                                  uow, owner)

    assert result["assignees"] == [{"user_id": "sales1",
                                    "permissions": {"contact": "edit", "company": "edit", "need": "read"}}]
    assert handlers.get_lead(lead["id"], uow, READER)["assignees"] == result["assignees"]


def test_assigning_emits_lead_assigned_with_who_got_it(uow, owner, lead):
    handlers.assign_lead(lead["id"], [{"user_id": "sales1"}, {"user_id": "sales2"}], uow, owner)

    [event] = uow.published("lead.assigned")
    assert event["actor_id"] == "owner1"
    assert event["data"]["id"] == lead["id"]
    assert event["data"]["campaign_id"] == "C1"
    assert [a["user_id"] for a in event["data"]["assigned"]] == ["sales1", "sales2"]
    assert {a["user_id"] for a in event["data"]["assignees"]} == {"sales1", "sales2"}


def test_an_assignment_is_in_the_history_L15(uow, owner, lead):
    handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, owner)

    entries = handlers.get_history(lead["id"], uow, READER)["items"]

    assert [e["action"] for e in entries] == ["created", "assigned"]
    assert entries[1]["changes"] == {"assignees.sales1": {
        "from": None, "to": {"contact": "edit", "company": "edit", "need": "edit"}}}
    assert entries[1]["actor_id"] == "owner1"


def test_a_stranger_may_not_assign_someone_elses_lead_and_nothing_changes(uow, lead):
    stranger = RequestContext(user_id="sales9", roles=("sales_member",))
    reader = RequestContext(user_id="m9", roles=("marketing_member",))

    with pytest.raises(NotFound):  # the lead is not theirs to see (L4)
        handlers.assign_lead(lead["id"], [{"user_id": "sales9"}], uow, stranger)
    with pytest.raises(Forbidden):  # they may read it, not hand it out
        handlers.assign_lead(lead["id"], [{"user_id": "sales9"}], uow, reader)

    assert handlers.get_lead(lead["id"], uow, READER)["assignees"] == []
    assert uow.published("lead.assigned") == []


@pytest.mark.parametrize("role", ["admin", "marketing_director", "sales_manager", "market_manager"])
def test_a_manager_may_assign_a_lead_they_do_not_own_L2(uow, lead, role):
    uow.state["users"]["owner1"] = {"team": "east", "active": True, "as_of": T0}
    manager = RequestContext(user_id="boss", roles=(role,), team="east")

    handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, manager)

    assert [a["user_id"] for a in handlers.get_lead(lead["id"], uow, READER)["assignees"]] == ["sales1"]


@pytest.mark.parametrize("role", ["sales_manager", "market_manager"])
def test_a_manager_of_another_team_neither_sees_nor_assigns_the_lead_L2_L4(uow, lead, role):
    uow.state["users"]["owner1"] = {"team": "east", "active": True, "as_of": T0}
    manager = RequestContext(user_id="boss", roles=(role,), team="west")

    with pytest.raises(NotFound):
        handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, manager)
    assert handlers.list_leads({}, uow, manager)["items"] == []


def test_a_rule_assigns_for_the_owner_and_its_reason_is_logged_A10(uow, lead):
    rule_ctx = RequestContext(user_id="owner1", channel="rule", reason="rule 'Shanghai' matched")

    handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, rule_ctx, decision_key="ev-1")

    entry = handlers.get_history(lead["id"], uow, READER)["items"][-1]
    assert (entry["channel"], entry["reason"]) == ("rule", "rule 'Shanghai' matched")


def test_a_rules_decision_is_applied_once_however_often_it_arrives_A10(uow, owner, lead):
    rule_ctx = RequestContext(user_id="owner1", channel="rule")
    first = handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, rule_ctx, decision_key="ev-1")
    handlers.assign_lead(lead["id"], [], uow, owner)  # unrelated work in between

    again = handlers.assign_lead(lead["id"], [{"user_id": "sales2"}], uow, rule_ctx, decision_key="ev-1")

    assert again["assignees"] == first["assignees"]
    assert len(uow.published("lead.assigned")) == 1
    assert [e["action"] for e in handlers.get_history(lead["id"], uow, READER)["items"]] == ["created", "assigned"]


def test_assigning_the_same_person_the_same_way_again_emits_nothing(uow, owner, lead):
    handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, owner)
    handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, owner)

    assert len(uow.published("lead.assigned")) == 1


def test_a_bad_permission_refuses_the_whole_assignment(uow, owner, lead):
    with pytest.raises(Invalid):
        handlers.assign_lead(lead["id"], [{"user_id": "sales1"},
                                          {"user_id": "sales2", "permissions": {"need": "own"}}], uow, owner)

    assert handlers.get_lead(lead["id"], uow, READER)["assignees"] == []


def test_assigning_a_lead_that_does_not_exist_is_not_found(uow, owner):
    with pytest.raises(NotFound):
        handlers.assign_lead("missing", [{"user_id": "sales1"}], uow, owner)


def test_a_converted_lead_cannot_be_assigned_L6(uow, owner, lead):
    uow.state["leads"][lead["id"]].status = "converted"

    with pytest.raises(Conflict):
        handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, owner)


def test_the_history_is_read_oldest_first_a_page_at_a_time_L15(uow, owner, lead):
    for n in range(4):
        handlers.assign_lead(lead["id"], [{"user_id": f"sales{n}"}], uow, owner)

    first = handlers.get_history(lead["id"], uow, READER, limit=3)
    rest = handlers.get_history(lead["id"], uow, READER, limit=3, cursor=first["next_cursor"])

    actions = [e["action"] for e in first["items"] + rest["items"]]
    assert actions == ["created"] + ["assigned"] * 4
    assert [list(e["changes"]) for e in (first["items"] + rest["items"])[1:]] == \
        [[f"assignees.sales{n}"] for n in range(4)]
    assert rest["next_cursor"] is None
    assert paging.decode(first["next_cursor"]) is not None


def test_rule_decisions_are_applied_in_bulk_once_each_with_their_own_actor_and_reason_A6_A10(
        uow, owner, campaigns):
    first, second = create(uow, owner, campaigns), create(uow, owner, campaigns)
    items = [{"lead_id": first["id"], "assignments": [{"user_id": "sales1"}], "decision_key": "ev-1",
              "actor_id": "creator1", "correlation_id": "c-1", "reason": "rule A matched"},
             {"lead_id": second["id"], "assignments": [{"user_id": "sales2"}], "decision_key": "ev-2",
              "actor_id": "creator2", "correlation_id": "c-2", "reason": "rule A matched"},
             {"lead_id": "gone", "assignments": [{"user_id": "sales1"}], "decision_key": "ev-3"}]

    result = handlers.assign_leads(items, uow)
    again = handlers.assign_leads(items, uow)

    assert result == {"assigned": [first["id"], second["id"]], "missing": ["gone"]}
    assert again == {"assigned": [], "missing": []}  # idempotent per decision_key
    assert uow.commits == 4  # two creates, then one transaction per batch
    events = uow.published("lead.assigned")
    assert [(e["data"]["id"], e["actor_id"], e["correlation_id"], e["causation_id"]) for e in events] == [
        (first["id"], "creator1", "c-1", "ev-1"), (second["id"], "creator2", "c-2", "ev-2")]
    [_, assigned] = handlers.get_history(first["id"], uow, READER)["items"]
    assert (assigned["action"], assigned["channel"], assigned["reason"], assigned["actor_id"]) == \
        ("assigned", "rule", "rule A matched", "creator1")


def test_closing_a_campaign_counts_its_leads_and_refuses_new_ones_C8(uow, owner, campaigns):
    create(uow, owner, campaigns, campaign_id="C1")

    usage = handlers.close_campaign("C1", uow)

    assert usage == {"leads": 1, "activities": 0}
    with pytest.raises(Conflict):
        create(uow, owner, campaigns, campaign_id="C1")


def test_a_deleted_campaign_takes_no_lead_and_says_it_does_not_exist_C8(uow, owner, campaigns):
    from crmkit import envelope

    handlers.on_campaign_event(envelope.new_event("campaign.deleted", {"id": "C1", "status": "planned"}), uow)

    with pytest.raises(Invalid) as refused:
        create(uow, owner, campaigns, campaign_id="C1")
    assert refused.value.details == {"campaign_id": "No such campaign."}


def test_a_late_campaign_event_does_not_reopen_a_closed_or_deleted_campaign_C8(uow, owner, campaigns):
    from crmkit import envelope

    handlers.close_campaign("C1", uow)
    handlers.on_campaign_event(envelope.new_event("campaign.updated", {"id": "C1", "status": "active"}), uow)
    with pytest.raises(Conflict):
        create(uow, owner, campaigns, campaign_id="C1")

    handlers.on_campaign_event(envelope.new_event("campaign.deleted", {"id": "C1", "status": "active"}), uow)
    handlers.on_campaign_event(envelope.new_event("campaign.created", {"id": "C1", "status": "planned"}), uow)
    with pytest.raises(Invalid):
        create(uow, owner, campaigns, campaign_id="C1")


# -- web registrations (C6) -------------------------------------------------------------------------------

FORM = {"contact": {"name": "王芳", "email": "wang@example.cn"}, "company": {"name": "杭州某某", "city": "杭州"},
        "need": {"description": "想了解叉车"}, "utm": {"source": "baidu", "medium": "cpc", "campaign": "春季"}}


def make_route(uow, ctx, campaigns, rules, **cmd):
    cmd = {"key": "expo-2026", "campaign_id": "C1", **cmd}
    return handlers.create_intake_route(cmd, uow, ctx, campaigns.authorize_campaign, rules.get_rule)


def post_form(uow, campaigns, key="expo-2026", request_key=None, form=None):
    web = RequestContext(correlation_id="web-1", channel="web_form")
    return handlers.intake(key, form or FORM, uow, web, campaigns.describe_campaign, request_key)


def test_a_route_is_stored_with_the_campaigns_owner_by_default_and_announced_C6(uow, owner, campaigns, rules):
    route = make_route(uow, owner, campaigns, rules, pool_id="P1", rule_id="R1")

    assert route == handlers.get_intake_route("expo-2026", uow)
    assert (route["campaign_id"], route["owner_id"], route["pool_id"], route["rule_id"]) == ("C1", "mkt1", "P1", "R1")
    assert (route["active"], route["created_by"]) == (True, "owner1")
    [event] = uow.published("lead.intake_route_created")
    assert (event["data"], event["actor_id"]) == (route, "owner1")


def test_a_route_may_name_its_own_owner_C6(uow, owner, campaigns, rules):
    assert make_route(uow, owner, campaigns, rules, owner_id="sales9")["owner_id"] == "sales9"


@pytest.mark.parametrize("cmd, error, path", [
    ({"campaign_id": "NOPE"}, Invalid, "campaign_id"),
    ({"rule_id": "R404"}, Invalid, "rule_id"),
    ({"campaign_id": "OLD"}, Conflict, "campaign_id"),
    ({"campaign_id": "THEIRS"}, Forbidden, None),
], ids=["unknown-campaign", "unknown-rule", "archived-campaign", "no-edit-permission"])
def test_a_route_needs_an_open_campaign_the_caller_may_edit_and_a_real_rule_C6(uow, owner, campaigns, rules,
                                                                                 cmd, error, path):
    with pytest.raises(error) as caught:
        make_route(uow, owner, campaigns, rules, **cmd)

    assert path is None or path in caught.value.details
    assert handlers.list_intake_routes(uow)["items"] == [] and uow.published() == []


def test_a_campaign_closed_here_takes_no_new_route_even_if_the_campaign_service_lags_C6_C8(uow, owner, campaigns,
                                                                                           rules):
    handlers.close_campaign("C1", uow)

    with pytest.raises(Conflict):
        make_route(uow, owner, campaigns, rules)


def test_a_form_key_is_taken_once_C6(uow, owner, campaigns, rules):
    make_route(uow, owner, campaigns, rules)

    with pytest.raises(Conflict) as caught:
        make_route(uow, owner, campaigns, rules, campaign_id="C2")

    assert "key" in caught.value.details
    assert handlers.get_intake_route("expo-2026", uow)["campaign_id"] == "C1"
    assert len(uow.published("lead.intake_route_created")) == 1


def test_routes_are_listed_by_key_a_page_at_a_time_C6(uow, owner, campaigns, rules):
    for key in ("ccc", "aaa", "bbb"):
        make_route(uow, owner, campaigns, rules, key=key)

    first = handlers.list_intake_routes(uow, limit=2)
    rest = handlers.list_intake_routes(uow, limit=2, cursor=first["next_cursor"])

    assert [r["key"] for r in first["items"]] == ["aaa", "bbb"]
    assert [r["key"] for r in rest["items"]] == ["ccc"] and rest["next_cursor"] is None


def test_an_unknown_route_is_not_found_C6(uow):
    with pytest.raises(NotFound):
        handlers.get_intake_route("nope", uow)


def test_a_registration_lands_in_the_routes_campaign_owner_pool_and_rule_without_an_actor_C6(
        uow, owner, campaigns, rules):
    make_route(uow, owner, campaigns, rules, owner_id="sales9", pool_id="P1", rule_id="R1")

    answer = post_form(uow, campaigns)

    assert list(answer) == ["lead_id"]
    lead = handlers.get_lead(answer["lead_id"], uow, READER)
    assert (lead["campaign_id"], lead["owner_id"], lead["pool_id"], lead["rule_id"], lead["source"]) == \
        ("C1", "sales9", "P1", "R1", "web_form")
    assert (lead["contact"]["name"], lead["company"]["city"], lead["need"]["description"]) == ("王芳", "杭州", "想了解叉车")
    assert lead["utm"] == {"source": "baidu", "medium": "cpc", "campaign": "春季"}
    assert "utm_source:baidu" in lead["tags"]
    [event] = uow.published("lead.created")
    assert (event["actor_id"], event["correlation_id"]) == (None, "web-1")
    assert (event["data"]["rule_id"], event["data"]["utm"]["campaign"]) == ("R1", "春季")
    [created] = handlers.get_history(lead["id"], uow, READER)["items"]
    assert (created["actor_id"], created["channel"]) == (None, "web_form")
    assert handlers.list_leads({"tag": "utm_campaign:春季"}, uow, READER)["items"] == [lead]


def test_a_registration_has_no_actor_whatever_context_arrives_C6(uow, owner, campaigns, rules):
    make_route(uow, owner, campaigns, rules)

    lead_id = handlers.intake("expo-2026", FORM, uow, owner, campaigns.describe_campaign)["lead_id"]

    assert handlers.get_lead(lead_id, uow, READER)["owner_id"] == "mkt1"
    assert uow.published("lead.created")[0]["actor_id"] is None


def test_a_registration_sent_twice_with_the_same_key_is_one_lead_C6(uow, owner, campaigns, rules):
    make_route(uow, owner, campaigns, rules)

    first = post_form(uow, campaigns, request_key="intake:expo-2026:k1")
    again = post_form(uow, campaigns, request_key="intake:expo-2026:k1")

    assert first == again
    assert len(uow.published("lead.created")) == 1


def test_a_registration_for_an_unknown_form_is_not_found_and_stores_nothing_C6(uow, campaigns):
    with pytest.raises(NotFound):
        post_form(uow, campaigns, key="nope")

    assert handlers.list_leads({}, uow, READER)["items"] == [] and uow.published() == []


def test_a_registration_still_needs_a_name_or_a_company_L1_C6(uow, owner, campaigns, rules):
    make_route(uow, owner, campaigns, rules)

    with pytest.raises(Invalid) as caught:
        post_form(uow, campaigns, form={"contact": {"email": "a@b.cn"}, "utm": {"source": "x"}})

    assert {"contact.name", "company.name"} <= set(caught.value.details)
    assert handlers.list_leads({}, uow, READER)["items"] == []


def test_a_registration_for_a_campaign_archived_since_is_refused_C6_C8(uow, owner, campaigns, rules):
    make_route(uow, owner, campaigns, rules)
    handlers.close_campaign("C1", uow)

    with pytest.raises(Conflict):
        post_form(uow, campaigns)


def test_a_switched_off_route_refuses_registrations_as_gone_and_can_be_switched_on_again_C6(
        uow, owner, campaigns, rules):
    make_route(uow, owner, campaigns, rules)

    off = handlers.update_intake_route("expo-2026", {"active": False}, uow, owner, campaigns.authorize_campaign,
                                       rules.get_rule)
    with pytest.raises(Gone):
        post_form(uow, campaigns)
    handlers.update_intake_route("expo-2026", {"active": True}, uow, owner, campaigns.authorize_campaign,
                                 rules.get_rule)

    assert off["active"] is False
    assert post_form(uow, campaigns)["lead_id"]
    changes = [e["data"]["changes"] for e in uow.published("lead.intake_route_updated")]
    assert changes == [{"active": {"from": True, "to": False}}, {"active": {"from": False, "to": True}}]


def test_a_route_update_that_changes_nothing_emits_nothing_C6(uow, owner, campaigns, rules):
    route = make_route(uow, owner, campaigns, rules, pool_id="P1")

    same = handlers.update_intake_route("expo-2026", {"pool_id": "P1"}, uow, owner, campaigns.authorize_campaign,
                                        rules.get_rule)

    assert same == route and uow.published("lead.intake_route_updated") == []


@pytest.mark.parametrize("key, cmd, error", [
    ("nope", {"active": False}, NotFound),
    ("expo-2026", {"rule_id": "R404"}, Invalid),
], ids=["unknown-route", "unknown-rule"])
def test_a_bad_route_update_changes_nothing_C6(uow, owner, campaigns, rules, key, cmd, error):
    make_route(uow, owner, campaigns, rules)

    with pytest.raises(error):
        handlers.update_intake_route(key, cmd, uow, owner, campaigns.authorize_campaign, rules.get_rule)

    assert handlers.get_intake_route("expo-2026", uow)["rule_id"] is None
    assert uow.published("lead.intake_route_updated") == []


def test_only_who_may_edit_the_campaign_changes_its_route_C6(uow, owner, campaigns, rules):
    make_route(uow, owner, campaigns, rules, key="theirs", campaign_id="C2")
    campaigns.campaigns["C2"]["denied"] = ("edit",)

    with pytest.raises(Forbidden):
        handlers.update_intake_route("theirs", {"active": False}, uow, owner, campaigns.authorize_campaign,
                                     rules.get_rule)

    assert handlers.get_intake_route("theirs", uow)["active"] is True
