"""Duplicates and merge (L14), on the fake and on real SQLite: a duplicate is flagged, never refused;
a merge keeps every activity, response, rating, opportunity, assignee and history row."""
from decimal import Decimal

import pytest

from crmkit.context import RequestContext
from crmkit.errors import Forbidden, Invalid, NotFound
from lead import handlers, work_handlers as work

OWNER = RequestContext(user_id="owner1", roles=("marketing_member",))
ADMIN = RequestContext(user_id="a1", roles=("admin",))
SALES = RequestContext(user_id="s1", roles=("sales_member",))
FIRST = {"contact": {"name": "王芳", "email": "Wang.Fang@Example.cn", "mobile": "139 1234 5678"},
         "company": {"name": "杭州某某机械"}, "tags": ["展会"]}


def create(uow, campaigns, card, ctx=OWNER):
    return handlers.create_lead(card, uow, ctx, campaigns.describe_campaign)


@pytest.mark.parametrize("second, matched_on", [
    ({"contact": {"name": "Fang Wang", "email": " wang.fang@example.CN "}}, ["email"]),
    ({"contact": {"name": "王女士", "phone": "+86 139-1234-5678"}}, ["phone"]),
    ({"contact": {"name": "王芳"}, "company": {"name": "杭州某某机械 "}}, ["name"]),
])
def test_a_duplicate_by_email_phone_or_name_is_stored_and_flagged_L14(any_uow, campaigns, second, matched_on):
    first = create(any_uow, campaigns, FIRST)

    again = create(any_uow, campaigns, second)

    assert again["duplicate_of"] == [first["id"]] and first["duplicate_of"] == []
    [found] = handlers.find_duplicates(again["id"], any_uow, ADMIN)["items"]
    assert (found["id"], found["matched_on"]) == (first["id"], matched_on)
    assert create(any_uow, campaigns, {"contact": {"name": "李雷"}})["duplicate_of"] == []


def test_a_merge_keeps_everything_and_leaves_a_tombstone_pointing_at_the_survivor_L14(any_uow, campaigns):
    keep = create(any_uow, campaigns, {"contact": {"name": "王芳"}, "company": {"name": "杭州某某机械"}})
    dup = create(any_uow, campaigns, FIRST)
    handlers.assign_lead(dup["id"], [{"user_id": "s1", "permissions": {"need": "read"}}], any_uow, OWNER)
    handlers.record_response(dup["id"], {"response": "accepted", "note": "有兴趣"}, any_uow, SALES)
    handlers.assess_quality(dup["id"], {"valid": True, "reachable": True, "intent": 5}, any_uow, SALES)
    activity = work.log_activity(dup["id"], {"type": "call", "subject": "电话", "effort_hours": Decimal("1.5")},
                                 any_uow, SALES)

    merged = handlers.merge_leads(keep["id"], [dup["id"]], any_uow, OWNER)

    assert merged["contact"]["email"] == "Wang.Fang@Example.cn" and merged["tags"] == ["展会"]
    assert merged["assignees"] == [{"user_id": "s1", "permissions": {"contact": "edit", "company": "edit",
                                                                     "need": "read"}}]
    assert merged["quality"] == {"score": 100, "assessments": 1} and merged["duplicate_of"] == []
    assert [r["note"] for r in handlers.list_responses(keep["id"], any_uow, ADMIN)["items"]] == ["有兴趣"]
    assert [a["id"] for a in work.list_lead_activities(keep["id"], any_uow, ADMIN)["items"]] == [activity["id"]]
    actions = [h["action"] for h in handlers.get_history(keep["id"], any_uow, ADMIN)["items"]]
    assert actions.count("created") == 2 and actions[-1] == "merged" and "response_recorded" in actions
    with pytest.raises(NotFound) as caught:
        handlers.get_lead(dup["id"], any_uow, ADMIN)
    assert caught.value.details["merged_into"] == keep["id"]
    [event] = any_uow.published("lead.merged")
    assert event["data"]["merged_ids"] == [dup["id"]] and event["data"]["id"] == keep["id"]
    assert handlers.find_duplicates(keep["id"], any_uow, ADMIN)["items"] == []


def test_a_merge_needs_others_and_the_right_to_assign_every_lead(uow, campaigns):
    keep = create(uow, campaigns, FIRST)
    theirs = create(uow, campaigns, {"contact": {"name": "王芳"}}, ctx=RequestContext(user_id="o2", roles=("marketing_member",)))

    with pytest.raises(Invalid):
        handlers.merge_leads(keep["id"], [keep["id"]], uow, OWNER)
    with pytest.raises(Forbidden):
        handlers.merge_leads(keep["id"], [theirs["id"]], uow, OWNER)
    assert handlers.merge_leads(keep["id"], [theirs["id"]], uow, ADMIN)["id"] == keep["id"]
