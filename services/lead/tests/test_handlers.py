"""Lead use cases against the fake unit of work (STYLE idiom 8)."""
import pytest

from crmkit import paging
from crmkit.context import RequestContext
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound
from lead import handlers

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
    assert handlers.get_lead(lead["id"], uow) == lead


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
    assert handlers.list_leads({}, uow)["items"] == []


def test_a_repeated_request_returns_the_same_lead_and_stores_it_once(uow, owner, campaigns):
    first = create(uow, owner, campaigns, request_key="owner1:abc")
    again = create(uow, owner, campaigns, request_key="owner1:abc")
    other = create(uow, owner, campaigns, request_key="owner1:def")

    assert again == first
    assert other["id"] != first["id"]
    assert len(uow.published("lead.created")) == 2
    assert len(handlers.list_leads({}, uow)["items"]) == 2


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

    [entry] = handlers.get_history(lead["id"], uow)["items"]

    assert entry["action"] == "created"
    assert entry["actor_id"] == "owner1"
    assert entry["channel"] == "api"
    assert entry["changes"]["contact.name"] == {"from": None, "to": "张伟"}
    assert entry["at"].endswith("Z")


def test_getting_a_lead_that_does_not_exist_is_not_found(uow):
    with pytest.raises(NotFound):
        handlers.get_lead("missing", uow)
    with pytest.raises(NotFound):
        handlers.get_history("missing", uow)


def test_leads_are_listed_newest_first_a_page_at_a_time(uow, owner, campaigns):
    ids = [create(uow, owner, campaigns)["id"] for _ in range(5)]

    first = handlers.list_leads({}, uow, limit=2)
    second = handlers.list_leads({}, uow, limit=2, cursor=first["next_cursor"])
    third = handlers.list_leads({}, uow, limit=2, cursor=second["next_cursor"])

    seen = [lead["id"] for page in (first, second, third) for lead in page["items"]]
    assert seen == sorted(ids, reverse=True)
    assert third["next_cursor"] is None


def test_leads_are_filtered_by_campaign(uow, owner, campaigns):
    in_c1 = create(uow, owner, campaigns, campaign_id="C1")
    create(uow, owner, campaigns, campaign_id="C2")

    assert [l["id"] for l in handlers.list_leads({"campaign_id": "C1"}, uow)["items"]] == [in_c1["id"]]


def test_a_bad_cursor_or_limit_is_invalid(uow):
    with pytest.raises(Invalid):
        handlers.list_leads({}, uow, cursor="%%%")
    with pytest.raises(Invalid):
        handlers.list_leads({}, uow, limit=0)


# -- assignment (L2, L3, A9) --------------------------------------------------------------------

@pytest.fixture
def lead(uow, owner, campaigns):
    return create(uow, owner, campaigns, campaign_id="C1")


def test_the_owner_assigns_a_lead_with_section_permissions_L2_L3(uow, owner, lead):
    result = handlers.assign_lead(lead["id"], [{"user_id": "sales1", "permissions": {"need": "read"}}],
                                  uow, owner)

    assert result["assignees"] == [{"user_id": "sales1",
                                    "permissions": {"contact": "edit", "company": "edit", "need": "read"}}]
    assert handlers.get_lead(lead["id"], uow)["assignees"] == result["assignees"]


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

    entries = handlers.get_history(lead["id"], uow)["items"]

    assert [e["action"] for e in entries] == ["created", "assigned"]
    assert entries[1]["changes"] == {"assignees.sales1": {
        "from": None, "to": {"contact": "edit", "company": "edit", "need": "edit"}}}
    assert entries[1]["actor_id"] == "owner1"


def test_a_stranger_may_not_assign_someone_elses_lead_and_nothing_changes(uow, lead):
    stranger = RequestContext(user_id="sales9", roles=("sales_member",))

    with pytest.raises(Forbidden):
        handlers.assign_lead(lead["id"], [{"user_id": "sales9"}], uow, stranger)

    assert handlers.get_lead(lead["id"], uow)["assignees"] == []
    assert uow.published("lead.assigned") == []


@pytest.mark.parametrize("role", ["admin", "marketing_director", "sales_manager", "market_manager"])
def test_a_manager_may_assign_a_lead_they_do_not_own_L2(uow, lead, role):
    manager = RequestContext(user_id="boss", roles=(role,))

    handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, manager)

    assert [a["user_id"] for a in handlers.get_lead(lead["id"], uow)["assignees"]] == ["sales1"]


def test_a_rule_assigns_for_the_owner_and_its_reason_is_logged_A10(uow, lead):
    rule_ctx = RequestContext(user_id="owner1", channel="rule", reason="rule 'Shanghai' matched")

    handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, rule_ctx, decision_key="ev-1")

    entry = handlers.get_history(lead["id"], uow)["items"][-1]
    assert (entry["channel"], entry["reason"]) == ("rule", "rule 'Shanghai' matched")


def test_a_rules_decision_is_applied_once_however_often_it_arrives_A10(uow, owner, lead):
    rule_ctx = RequestContext(user_id="owner1", channel="rule")
    first = handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, rule_ctx, decision_key="ev-1")
    handlers.assign_lead(lead["id"], [], uow, owner)  # unrelated work in between

    again = handlers.assign_lead(lead["id"], [{"user_id": "sales2"}], uow, rule_ctx, decision_key="ev-1")

    assert again["assignees"] == first["assignees"]
    assert len(uow.published("lead.assigned")) == 1
    assert [e["action"] for e in handlers.get_history(lead["id"], uow)["items"]] == ["created", "assigned"]


def test_assigning_the_same_person_the_same_way_again_emits_nothing(uow, owner, lead):
    handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, owner)
    handlers.assign_lead(lead["id"], [{"user_id": "sales1"}], uow, owner)

    assert len(uow.published("lead.assigned")) == 1


def test_a_bad_permission_refuses_the_whole_assignment(uow, owner, lead):
    with pytest.raises(Invalid):
        handlers.assign_lead(lead["id"], [{"user_id": "sales1"},
                                          {"user_id": "sales2", "permissions": {"need": "own"}}], uow, owner)

    assert handlers.get_lead(lead["id"], uow)["assignees"] == []


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

    first = handlers.get_history(lead["id"], uow, limit=3)
    rest = handlers.get_history(lead["id"], uow, limit=3, cursor=first["next_cursor"])

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
    [_, assigned] = handlers.get_history(first["id"], uow)["items"]
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
