"""The lead's core use cases against the fake unit of work and, for the contract, real SQLite:
per-section PATCH under the conflict policy (L3, L4), status (L6), responses (L7), quality (L8),
recall (L2), moves between campaigns (L5), phones (L1) and the users directory."""
from datetime import datetime, timedelta, timezone

import pytest

from crmkit.context import RequestContext
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound
from lead import handlers
from lead.model import normalize_phone

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
OWNER = RequestContext(user_id="owner1", roles=("marketing_member",))
ADMIN = RequestContext(user_id="a1", roles=("admin",))
CARD = {"contact": {"name": "张伟", "phone": "021-62991640"}, "company": {"name": "ACME", "city": "上海"},
        "need": {"description": "叉车"}}
# s1 may edit the contact and read the rest; s1 is also a marketing member (role side: read)
ASSIGNMENT = {"user_id": "s1", "permissions": {"contact": "edit", "company": "read", "need": "read"}}


def member(policy=None):
    return RequestContext(user_id="s1", roles=("marketing_member",), policy=policy)


@pytest.fixture
def lead(uow, campaigns):
    created = handlers.create_lead(CARD, uow, OWNER, campaigns.describe_campaign)
    handlers.assign_lead(created["id"], [ASSIGNMENT], uow, OWNER)
    return created


def patch(uow, campaigns, lead_id, ctx, **changes):
    return handlers.patch_lead(lead_id, changes, uow, ctx, campaigns.describe_campaign)


@pytest.mark.parametrize("phone, expected", [
    ("021-62991640", "2162991640"), ("+86 21 6299 1640", "2162991640"), ("0086 21 62991640", "2162991640"),
    ("(021) 6299-1640 转 12", "2162991640"), ("+86 138-0013-8000", "13800138000"), ("13800138000", "13800138000"),
    ("+86 139 1234", "1391234"), ("8613800138000", "13800138000"), ("", None), (None, None),
])
def test_phones_are_normalised_for_matching_L1(phone, expected):
    assert normalize_phone(phone) == expected


def test_a_phone_typed_any_way_finds_the_lead_L1(uow, lead):
    for q in ("+86 21 6299 1640", "62991640", "021-6299"):
        assert [l["id"] for l in handlers.list_leads({"q": q}, uow, ADMIN)["items"]] == [lead["id"]], q


# the same assignment under the four policies: role side read, assignment side edit (contact)
@pytest.mark.parametrize("policy, contact_editable", [
    ("assignment_wins", True), ("role_wins", False), ("most_permissive", True), ("most_restrictive", False),
])
def test_the_four_conflict_policies_against_the_same_assignment_L4(uow, campaigns, lead, policy, contact_editable):
    ctx = member(policy)

    explained = handlers.get_permissions(lead["id"], uow, ctx)

    assert explained["contact"]["effective"] == ("edit" if contact_editable else "read")
    assert (explained["contact"]["role"], explained["contact"]["assignment"]) == ("read", "edit")
    assert explained["company"]["effective"] == "read" and explained["contact"]["policy"] == policy
    if contact_editable:
        assert patch(uow, campaigns, lead["id"], ctx, contact={"title": "经理"})["contact"]["title"] == "经理"
    else:
        with pytest.raises(Forbidden) as caught:
            patch(uow, campaigns, lead["id"], ctx, contact={"title": "经理"})
        assert list(caught.value.details) == ["contact"]


def test_a_patch_mixing_an_editable_and_a_read_only_section_changes_nothing_L3(uow, campaigns, lead):
    before = handlers.get_lead(lead["id"], uow, ADMIN)
    events = len(uow.published())

    with pytest.raises(Forbidden) as caught:
        patch(uow, campaigns, lead["id"], member(), contact={"title": "经理"}, need={"budget": "10万"})

    assert list(caught.value.details) == ["need"] and "need" in caught.value.message
    assert handlers.get_lead(lead["id"], uow, ADMIN) == before
    assert len(uow.published()) == events


def test_an_allowed_patch_merges_fields_records_history_and_emits_lead_updated_L1_L15(uow, campaigns, lead):
    updated = patch(uow, campaigns, lead["id"], OWNER, contact={"phone": None, "mobile": "+86 139 1234 5678"},
                    tags=["展会", "VIP"])

    assert updated["contact"] == {**lead["contact"], "phone": None, "mobile": "+86 139 1234 5678"}
    assert updated["tags"] == ["VIP", "展会"]
    event = uow.published("lead.updated")[-1]
    assert event["data"]["changes"]["contact.phone"] == {"from": "021-62991640", "to": None}
    [*_, entry] = handlers.get_history(lead["id"], uow, ADMIN)["items"]
    assert entry["action"] == "updated" and entry["actor_id"] == "owner1" and "tags" in entry["changes"]
    with pytest.raises(Invalid):  # a lead keeps a contact name or a company name
        patch(uow, campaigns, lead["id"], OWNER, contact={"name": None}, company={"name": " "})


def test_moving_a_lead_to_another_campaign_is_for_who_may_assign_it_and_checks_the_campaign_L5(uow, campaigns, lead):
    with pytest.raises(Forbidden):
        patch(uow, campaigns, lead["id"], member(), pool_id="P2")
    with pytest.raises(Conflict):
        patch(uow, campaigns, lead["id"], OWNER, campaign_id="OLD")  # archived
    with pytest.raises(Invalid):
        patch(uow, campaigns, lead["id"], OWNER, campaign_id="NOPE")

    moved = patch(uow, campaigns, lead["id"], OWNER, campaign_id="C2", pool_id="P2")

    assert (moved["campaign_id"], moved["pool_id"]) == ("C2", "P2")
    assert uow.published("lead.updated")[-1]["data"]["changes"]["campaign_id"] == {"from": None, "to": "C2"}


def test_status_moves_are_checked_and_invalid_needs_a_reason_L6(uow, lead):
    with pytest.raises(Conflict):
        handlers.set_status(lead["id"], {"status": "converted"}, uow, OWNER)
    with pytest.raises(Invalid):
        handlers.set_status(lead["id"], {"status": "invalid"}, uow, OWNER)

    invalid = handlers.set_status(lead["id"], {"status": "invalid", "reason": "unreachable", "note": "空号"}, uow, OWNER)
    own_words = handlers.set_status(lead["id"], {"status": "usable"}, uow, OWNER)

    assert (invalid["status"], invalid["invalid_reason"], invalid["invalid_note"]) == ("invalid", "unreachable", "空号")
    assert (own_words["status"], own_words["invalid_reason"]) == ("usable", None)
    with pytest.raises(Conflict):
        handlers.set_status(lead["id"], {"status": "raw"}, uow, OWNER)
    moved = uow.published("lead.status_changed")
    assert [e["data"]["changes"]["status"]["to"] for e in moved] == ["invalid", "usable"]
    entry = [h for h in handlers.get_history(lead["id"], uow, ADMIN)["items"] if h["action"] == "status_changed"][0]
    assert entry["reason"] == "空号"


def test_a_reason_in_ones_own_words_is_kept_as_other_L6(uow, lead):
    invalid = handlers.set_status(lead["id"], {"status": "invalid", "reason": "电话打不通"}, uow, OWNER)

    assert (invalid["invalid_reason"], invalid["invalid_note"]) == ("other", "电话打不通")


def test_a_reader_may_not_change_the_status_or_record_responses(uow, lead):
    reader = RequestContext(user_id="m9", roles=("marketing_member",))

    with pytest.raises(Forbidden):
        handlers.set_status(lead["id"], {"status": "usable"}, uow, reader)
    with pytest.raises(Forbidden):
        handlers.record_response(lead["id"], {"response": "accepted"}, uow, reader)


def test_responses_are_recorded_listed_and_published_L7(uow, lead):
    handlers.record_response(lead["id"], {"response": "not_reached", "note": "无人接听"}, uow, member())
    handlers.record_response(lead["id"], {"response": "accepted", "at": T0}, uow, member())

    listed = handlers.list_responses(lead["id"], uow, ADMIN)["items"]
    assert [r["response"] for r in listed] == ["not_reached", "accepted"] and listed[0]["note"] == "无人接听"
    assert handlers.get_lead(lead["id"], uow, ADMIN)["last_response"]["response"] == "accepted"
    event = uow.published("lead.response_recorded")[-1]
    assert event["data"]["response"]["response"] == "accepted" and event["data"]["campaign_id"] == lead["campaign_id"]


def test_quality_is_assessed_by_assignees_and_the_lead_keeps_the_mean_L8(uow, lead):
    handlers.assess_quality(lead["id"], {"valid": True, "reachable": True, "intent": 5}, uow, member())
    handlers.assess_quality(lead["id"], {"valid": True, "reachable": False, "intent": 3}, uow, OWNER)
    again = handlers.assess_quality(lead["id"], {"valid": True, "reachable": True, "intent": 1}, uow, member())

    assert again["quality"] == {"score": 60, "assessments": 2}  # (60 + 60) / 2: s1's second rating replaced the first
    assert uow.published("lead.quality_assessed")[-1]["data"]["assessment"]["score"] == 60
    with pytest.raises(Forbidden):
        handlers.assess_quality(lead["id"], {"valid": True, "reachable": True, "intent": 5}, uow,
                                RequestContext(user_id="m9", roles=("marketing_member",)))


def test_the_owner_recalls_an_assignee_and_a_stranger_cannot_L2(uow, lead):
    with pytest.raises(Forbidden):
        handlers.recall(lead["id"], "s1", uow, member())

    recalled = handlers.recall(lead["id"], "s1", uow, OWNER)

    assert recalled["assignees"] == []
    assert uow.published("lead.recalled")[-1]["data"]["recalled"] == "s1"
    with pytest.raises(NotFound):
        handlers.recall(lead["id"], "s1", uow, OWNER)


def test_the_users_directory_follows_user_events_and_ignores_older_ones(uow):
    def event(event_id, team, at):
        return {"event_id": event_id, "type": "user.updated", "occurred_at": (T0 + at).isoformat(),
                "data": {"id": "u1", "team": team, "active": True}}

    handlers.on_user_event(event("e2", "west", timedelta(seconds=2)), uow)
    handlers.on_user_event(event("e1", "east", timedelta(seconds=1)), uow)  # late and older
    handlers.on_user_event(event("e2", "north", timedelta(seconds=3)), uow)  # a duplicate delivery

    with uow:
        assert uow.users.teams_of(["u1"]) == {"u1": "west"}


# -- the same on the real repositories (SQLite built by Alembic) and the fakes ---------------------------------

def test_the_lead_core_behaves_the_same_on_the_fake_and_on_sqlite(any_uow, campaigns):
    lead = handlers.create_lead(CARD, any_uow, OWNER, campaigns.describe_campaign)
    handlers.assign_lead(lead["id"], [ASSIGNMENT], any_uow, OWNER)
    handlers.on_user_event({"event_id": "e1", "type": "user.created", "occurred_at": "2026-01-01T00:00:00Z",
                            "data": {"id": "owner1", "team": "华东", "active": True}}, any_uow)

    patch(any_uow, campaigns, lead["id"], member(), contact={"mobile": "+86 139-1234-5678"})
    handlers.set_status(lead["id"], {"status": "invalid", "reason": "duplicate", "note": "同一家"}, any_uow, OWNER)
    handlers.record_response(lead["id"], {"response": "not_accepted", "note": "预算不够"}, any_uow, member())
    handlers.assess_quality(lead["id"], {"valid": False, "reachable": True, "intent": 2}, any_uow, member())
    stored = handlers.get_lead(lead["id"], any_uow, ADMIN)

    assert stored["contact"]["mobile"] == "+86 139-1234-5678" and stored["contact"]["phone"] == "021-62991640"
    assert (stored["status"], stored["invalid_reason"], stored["invalid_note"]) == ("invalid", "duplicate", "同一家")
    assert stored["quality"] == {"score": 30, "assessments": 1}
    assert stored["last_response"]["response"] == "not_accepted"
    assert stored["assignees"] == [ASSIGNMENT]
    manager = RequestContext(user_id="m1", roles=("sales_manager",), team="华东")
    outsider = RequestContext(user_id="m2", roles=("sales_manager",), team="华南")
    for q in ("13912345678", "62991640", "张伟"):
        assert [l["id"] for l in handlers.list_leads({"q": q}, any_uow, manager)["items"]] == [lead["id"]], q
    assert handlers.list_leads({}, any_uow, outsider)["items"] == []
    assert [l["id"] for l in handlers.list_leads({}, any_uow, member())["items"]] == [lead["id"]]
    assert handlers.list_leads({"q": "%"}, any_uow, ADMIN)["items"] == []
    assert [r["note"] for r in handlers.list_responses(lead["id"], any_uow, ADMIN)["items"]] == ["预算不够"]
    assert [e["type"] for e in any_uow.published()][-4:] == ["lead.updated", "lead.status_changed",
                                                          "lead.response_recorded", "lead.quality_assessed"]


def test_each_history_entry_reads_as_a_sentence_L15(uow, campaigns, lead):
    patch(uow, campaigns, lead["id"], OWNER, contact={"title": "总监"})
    handlers.set_status(lead["id"], {"status": "invalid", "reason": "no_need", "note": "暂不需要"}, uow, OWNER)

    entries = handlers.get_history(lead["id"], uow, ADMIN)["items"]

    assert entries[-2]["summary"] == "updated via api: contact.title (empty) → “总监”"
    assert entries[-1]["summary"] == ('status changed via api: status “raw” → “invalid”; invalid_reason (empty) → '
                                      '“no_need”; invalid_note (empty) → “暂不需要” (reason: 暂不需要)')


def test_unassigned_leads_are_a_filter_and_a_tag_with_wildcards_is_literal_A8_L5(any_uow, campaigns):
    alone = handlers.create_lead({**CARD, "tags": ["100%"]}, any_uow, OWNER, campaigns.describe_campaign)
    taken = handlers.create_lead({**CARD, "tags": ["1000"]}, any_uow, OWNER, campaigns.describe_campaign)
    handlers.assign_lead(taken["id"], [ASSIGNMENT], any_uow, OWNER)

    assert [l["id"] for l in handlers.list_leads({"unassigned": True}, any_uow, ADMIN)["items"]] == [alone["id"]]
    assert [l["id"] for l in handlers.list_leads({"tag": "100%"}, any_uow, ADMIN)["items"]] == [alone["id"]]
    assert handlers.list_leads({"tag": "10_0"}, any_uow, ADMIN)["items"] == []
