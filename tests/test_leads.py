"""The lead's core through the gateway with real processes: per-section permissions under the four
conflict policies (L3, L4), a mixed patch that changes nothing, status, responses, quality, recall,
team visibility; every change arrives on lead.events for a plain pika subscriber (L1-L8, L15)."""
import pytest

from tests.events import Subscriber
from tests.support import wait_for

pytestmark = pytest.mark.integration

CARD = {"contact": {"name": "王芳", "phone": "021-62991640"}, "company": {"name": "杭州某某机械", "city": "杭州"},
        "need": {"description": "三台电动叉车"}}
SPLIT = {"contact": "edit", "company": "read", "need": "read"}


def test_section_permissions_policies_and_the_lead_lifecycle_through_the_gateway_L1_L8(make_stack):
    stack = make_stack()
    admin = stack.api
    subscriber = Subscriber(stack.env["AMQP_URI"], "lead.events", ("lead.#",))
    owner_user, owner = admin.user("owner-l", roles=["marketing_member"], team="华东")
    member_user, member = admin.user("member-l", roles=["marketing_member"])   # role side: read
    _, manager = admin.user("manager-l", roles=["sales_manager"], team="华东")
    _, outsider = admin.user("manager-w", roles=["sales_manager"], team="华南")
    _, stranger = admin.user("stranger-l", roles=["sales_member"])
    lead = owner.ok("POST", "/leads", status=201, json=CARD)
    lid = lead["id"]
    owner.ok("POST", f"/leads/{lid}/assignments", status=201,
             json={"user_id": member_user["id"], "permissions": SPLIT})

    # L4: the same assignment (contact: edit) against a role that reads, under each policy
    for policy, editable in (("assignment_wins", True), ("role_wins", False), ("most_permissive", True),
                             ("most_restrictive", False)):
        admin.ok("PATCH", "/settings", json={"permission_conflict_policy": policy})
        explained = member.ok("GET", f"/leads/{lid}/permissions")
        assert explained["contact"]["effective"] == ("edit" if editable else "read"), policy
        assert (explained["contact"]["role"], explained["contact"]["assignment"], explained["contact"]["policy"]) \
            == ("read", "edit", policy)
        assert policy in explained["contact"]["reason"]
        answer = member.patch(f"/leads/{lid}", json={"contact": {"title": f"经理 {policy}"}})
        assert answer.status_code == (200 if editable else 403), (policy, answer.text)
    admin.ok("PATCH", "/settings", json={"permission_conflict_policy": "assignment_wins"})

    # L3: a patch touching an editable and a read-only section changes nothing
    before = admin.ok("GET", f"/leads/{lid}")
    mixed = member.patch(f"/leads/{lid}", json={"contact": {"title": "总监"}, "need": {"budget": "10万"}})
    assert mixed.status_code == 403 and set(mixed.json()["error"]["details"]) == {"need"}
    assert admin.ok("GET", f"/leads/{lid}") == before

    # L6, L7, L8
    assert member.post(f"/leads/{lid}/status", json={"status": "converted"}).status_code == 409
    assert member.post(f"/leads/{lid}/status", json={"status": "invalid"}).status_code == 422
    invalid = member.ok("POST", f"/leads/{lid}/status", json={"status": "invalid", "reason": "电话打不通"})
    assert (invalid["status"], invalid["invalid_reason"], invalid["invalid_note"]) == ("invalid", "other", "电话打不通")
    assert member.ok("POST", f"/leads/{lid}/status", json={"status": "usable"})["status"] == "usable"
    assert member.post(f"/leads/{lid}/status", json={"status": "raw"}).status_code == 409
    member.ok("POST", f"/leads/{lid}/responses", status=201, json={"response": "not_reached", "note": "无人接听"})
    assert member.post(f"/leads/{lid}/responses", json={"response": "maybe"}).status_code == 422
    rated = member.ok("POST", f"/leads/{lid}/quality", status=201, json={"valid": True, "reachable": True, "intent": 4})
    assert rated["quality"] == {"score": 90, "assessments": 1}
    assert member.post(f"/leads/{lid}/quality", json={"valid": True, "reachable": True, "intent": 6}).status_code == 422

    # L1: the phone, typed another way, finds the lead; L4: who sees it
    assert [l["id"] for l in admin.ok("GET", "/leads", params={"q": "+86 21 6299 1640"})["items"]] == [lid]
    assert stranger.get(f"/leads/{lid}").status_code == 404
    assert lid not in [l["id"] for l in stranger.ok("GET", "/leads")["items"]]
    wait_for(lambda: manager.get(f"/leads/{lid}").status_code == 200, message="the team manager sees the lead")
    assert outsider.get(f"/leads/{lid}").status_code == 404
    assert [l["id"] for l in manager.ok("GET", "/leads")["items"]] == [lid]

    # L2: recall
    assert member.request("DELETE", f"/leads/{lid}/assignments/{member_user['id']}").status_code == 403
    assert owner.request("DELETE", f"/leads/{lid}/assignments/{member_user['id']}").status_code == 204
    assert admin.ok("GET", f"/leads/{lid}")["assignees"] == []

    # L5: tags and a move to another campaign (history kept); A8: unassigned leads are a filter
    campaign = admin.ok("POST", "/campaigns", json={"name": "重新分配", "type": "lead_reactivation"})
    moved = owner.ok("PATCH", f"/leads/{lid}", json={"tags": ["展会", "VIP"], "campaign_id": campaign["id"]})
    assert (moved["tags"], moved["campaign_id"]) == (["VIP", "展会"], campaign["id"])
    assert [l["id"] for l in admin.ok("GET", "/leads", params={"tag": "展会"})["items"]] == [lid]
    assert lid in [l["id"] for l in admin.ok("GET", "/leads", params={"unassigned": "true"})["items"]]
    assert member.get(f"/leads/{lid}").status_code == 200  # recalled, a marketing member still reads it…
    assert member.patch(f"/leads/{lid}", json={"pool_id": "P9"}).status_code == 403  # …and may not move it

    # L15 and the events
    history = admin.ok("GET", f"/leads/{lid}/history")["items"]
    actions = [h["action"] for h in history]
    assert actions == ["created", "assigned", "updated", "updated", "status_changed", "status_changed",
                       "response_recorded", "quality_assessed", "recalled", "updated"]
    assert f"campaign_id (empty) → “{campaign['id']}”" in history[-1]["summary"]
    wanted = {"lead.created", "lead.assigned", "lead.updated", "lead.status_changed", "lead.response_recorded",
              "lead.quality_assessed", "lead.recalled"}
    subscriber.wait_for(lambda e: e["routing_key"] == "lead.recalled")
    got = {e["routing_key"] for e in subscriber.events if e["body"]["data"]["id"] == lid}
    assert wanted <= got
    subscriber.wait_for(lambda e: e["body"]["data"].get("campaign_id") == campaign["id"])
    assert all("campaign_id" in e["body"]["data"] for e in subscriber.events if e["body"]["data"]["id"] == lid)
    subscriber.close()


def test_duplicates_are_flagged_and_a_merge_keeps_every_related_record_L14(make_stack):
    stack = make_stack()
    admin = stack.api
    subscriber = Subscriber(stack.env["AMQP_URI"], "lead.events", ("lead.merged",))
    sales_user, sales = admin.user("sales-merge", roles=["sales_member"])
    keep = admin.ok("POST", "/leads", json={"contact": {"name": "王芳"}, "company": {"name": "杭州某某机械"}})
    dup = admin.ok("POST", "/leads", json={"contact": {"name": "王芳", "email": "wang@example.cn",
                                                       "mobile": "+86 139 1234 5678"},
                                           "company": {"name": "杭州某某机械"}})
    assert dup["duplicate_of"] == [keep["id"]]
    [found] = admin.ok("GET", f"/leads/{dup['id']}/duplicates")["items"]
    assert (found["id"], found["matched_on"]) == (keep["id"], ["name"])
    admin.ok("POST", f"/leads/{dup['id']}/assignments", json={"user_id": sales_user["id"]})
    sales.ok("POST", f"/leads/{dup['id']}/responses", json={"response": "accepted"})
    activity = sales.ok("POST", f"/leads/{dup['id']}/activities",
                        json={"type": "visit", "subject": "上门拜访", "effort_hours": 3})
    deal = sales.ok("POST", f"/leads/{dup['id']}/convert", json={"opportunities": [{"name": "叉车", "amount": "90000"}]})

    merged = admin.ok("POST", "/leads/merge", json={"into": keep["id"], "from": [dup["id"]]})

    assert merged["contact"]["email"] == "wang@example.cn"
    assert [a["user_id"] for a in merged["assignees"]] == [sales_user["id"]]
    assert [a["id"] for a in admin.ok("GET", f"/leads/{keep['id']}/activities")["items"]] == [activity["id"]]
    assert [r["response"] for r in admin.ok("GET", f"/leads/{keep['id']}/responses")["items"]] == ["accepted"]
    opportunity = admin.ok("GET", f"/opportunities/{deal['opportunity_ids'][0]}")
    assert opportunity["lead_id"] == keep["id"]
    actions = [h["action"] for h in admin.ok("GET", f"/leads/{keep['id']}/history")["items"]]
    assert {"created", "assigned", "response_recorded", "converted", "merged"} <= set(actions)
    gone = admin.get(f"/leads/{dup['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["details"]["merged_into"] == keep["id"]
    assert admin.post("/leads/merge", json={"into": keep["id"], "from": []}).status_code == 422
    [event] = subscriber.wait_for(lambda e: e["routing_key"] == "lead.merged")
    assert event["body"]["data"]["merged_ids"] == [dup["id"]]
    subscriber.close()
