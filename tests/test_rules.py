"""The rules engine through the gateway (issue 7): the seed's Shanghai example in all its
variants, the text form both ways with error positions, usable_by, preview with near misses,
and a rule edit that never reassigns a lead already decided."""
import pytest

from tests.scenario import assignees_of, wait_assigned
from tests.support import wait_for

pytestmark = pytest.mark.integration

ROUND_TRIP = 'company.city = "Shanghai" or (region(company) = "Beijing" and not need.description is empty)'


def lead(api, campaign_id, name, city=None, phone=None, owner_id=None):
    return api.ok("POST", "/leads", status=201, json={
        "campaign_id": campaign_id, "owner_id": owner_id, "contact": {"name": name},
        "company": {"name": f"{name}的公司", "city": city, "phone": phone}})["id"]


def log_of(api, lead_id):
    return wait_for(lambda: api.ok("GET", f"/leads/{lead_id}/assignment-log")["items"], 20,
                    message=f"a decision on {lead_id}")


def test_the_seeds_shanghai_rule_catches_every_variant_and_previews_near_misses_A3_A4_A5_A8(make_stack):
    api = make_stack().api
    sales, _ = api.user("sh.sales", team="华东")

    # A5: text → tree → text, exactly; errors say where
    made = api.ok("POST", "/assignment-rules", status=201, json={
        "name": "text form", "recipients": [{"user_id": sales["id"]}], "condition_text": ROUND_TRIP})
    assert made["condition_text"] == ROUND_TRIP
    assert made["condition"]["any"][1]["all"][0] == {"field": "company", "op": "region", "value": "Beijing"}
    assert "北京" in made["condition_words"]["zh"] or "Beijing" in made["condition_words"]["zh"]
    again = api.ok("POST", "/assignment-rules", status=201, json={
        "name": "tree form", "recipients": [{"user_id": sales["id"]}], "condition": made["condition"]})
    assert (again["condition"], again["condition_text"]) == (made["condition"], ROUND_TRIP)
    bad_text = api.post("/assignment-rules", json={
        "name": "x", "recipients": [{"user_id": sales["id"]}],
        "condition_text": 'company.city = "Shanghai" and\n  region(company = "Beijing"'})
    assert bad_text.status_code == 422
    assert bad_text.json()["error"]["details"]["condition_text"].startswith("line 2, column 18")
    bad_field = api.post("/assignment-rules", json={
        "name": "x", "recipients": [{"user_id": sales["id"]}],
        "condition_text": 'company.city = "Shanghai" or\ncompany.town = "x"'})
    assert bad_field.json()["error"]["details"]["condition_text"].startswith("line 2, column 1")
    bad_tree = api.post("/assignment-rules", json={
        "name": "x", "recipients": [{"user_id": sales["id"]}],
        "condition": {"any": [{"field": "company.city", "op": "eq", "value": "x"},
                              {"field": "company.city", "op": "like", "value": "x"}]}})
    assert (bad_tree.status_code, list(bad_tree.json()["error"]["details"])) == (422, ["condition.any.1.op"])

    # A4: one rule "region = 上海" catches " ShangHai ", "上海" and a 021 phone with no city
    campaign = api.ok("POST", "/campaigns", json={"name": "2024 上海展会", "type": "trade_show"})
    rule = api.ok("POST", "/assignment-rules", status=201, json={
        "name": "上海地区分发规则", "recipients": [{"user_id": sales["id"]}],
        "condition_text": 'region(company) = "上海"'})
    api.ok("PUT", f"/campaigns/{campaign['id']}/rule", json={"rule_id": rule["id"]})
    caught = [lead(api, campaign["id"], "王芳", city=" ShangHai "), lead(api, campaign["id"], "李雷", city="上海"),
              lead(api, campaign["id"], "韩梅梅", phone="021-62991640")]
    missed = lead(api, campaign["id"], "张伟", city="Beijing", phone="010-12345678")
    for lead_id in caught:
        assert [a["user_id"] for a in wait_assigned(api, lead_id)] == [sales["id"]]
    assert log_of(api, missed)[0]["matched"] is False
    assert assignees_of(api, missed) == []

    # A8: the seed's careless rule "city = Shanghai" — preview shows what it would miss, and why
    careless = api.ok("POST", "/assignment-rules", status=201, json={
        "name": "城市=上海", "recipients": [{"user_id": sales["id"]}],
        "condition": {"field": "company.city", "op": "eq", "value": "Shanghai"}})
    typo = lead(api, campaign["id"], "赵敏", city="Shangahi")
    preview = wait_for(lambda: (lambda p: len(p["matched"]) + len(p["unmatched"]) == 5 and p)(api.ok(
        "POST", f"/assignment-rules/{careless['id']}/preview", json={"campaign_id": campaign["id"]})), 20,
        message="the preview over the campaign's five leads")
    assert preview["matched"] == [caught[0]]
    why = {m["lead_id"]: m["why"] for m in preview["near_misses"]}
    assert "021-62991640" in why[caught[2]] and "company.city is empty" in why[caught[2]]
    assert "one edit" in why[typo] and "Shangahi" in why[typo]
    assert "same place" in why[caught[1]]
    assert missed not in why
    lint = api.ok("GET", f"/assignment-rules/{rule['id']}/lint")
    assert lint["findings"] == []


def test_usable_by_is_enforced_and_an_edited_rule_never_reassigns_decided_leads_A6_A9(make_stack):
    api = make_stack().api
    manager, as_manager = api.user("east.manager", roles=("sales_manager",), team="华东")
    outsider, as_outsider = api.user("marketing.member", roles=("marketing_member",), team="华北")
    first, _ = api.user("first.sales", team="华东")
    second, _ = api.user("second.sales", team="华东")
    campaign = api.ok("POST", "/campaigns", json={"name": "华东研讨会", "type": "seminar"})
    rule = api.ok("POST", "/assignment-rules", status=201, json={
        "name": "华东 leads", "usable_by": [manager["id"]], "recipients": [{"user_id": first["id"]}],
        "condition_text": 'region(company) = "上海" or region(company) = "江苏"'})
    mine = [lead(api, campaign["id"], "周杰", city="苏州", owner_id=manager["id"]),
            lead(api, campaign["id"], "吴磊", city="Shanghai", owner_id=manager["id"]),
            lead(api, campaign["id"], "郑爽", city="成都", owner_id=manager["id"])]
    manual = lead(api, campaign["id"], "孙俪", city="上海", owner_id=manager["id"])
    api.ok("POST", f"/leads/{manual}/assignments", status=201,
           json={"user_id": second["id"], "permissions": {"contact": "read", "company": "read", "need": "read"}})
    others = lead(api, campaign["id"], "钱多", city="上海", owner_id=outsider["id"])

    wait_for(lambda: len(api.ok("POST", f"/assignment-rules/{rule['id']}/preview",
                                json={"campaign_id": campaign["id"]})["matched"]) == 4, 20, message="the projection")
    wait_for(lambda: assignees_of(api, manual), 20, message="the manual assignment")
    refused = as_outsider.post(f"/assignment-rules/{rule['id']}/apply", json={"lead_ids": [others]})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    not_owner = as_manager.post(f"/assignment-rules/{rule['id']}/apply", json={"lead_ids": mine + [others]})
    assert not_owner.status_code == 403
    assert as_manager.post(f"/assignment-rules/{rule['id']}/apply", json={}).status_code == 422

    applied = as_manager.ok("POST", f"/assignment-rules/{rule['id']}/apply", json={"lead_ids": mine + [manual]})
    assert (applied["assigned"], applied["unmatched"]) == (mine[:2], mine[2:])
    assert [s["lead_id"] for s in applied["skipped"]] == [manual]  # A9: the manual assignment stands
    for lead_id in mine[:2]:
        assert [a["user_id"] for a in wait_assigned(api, lead_id)] == [first["id"]]

    edited = api.ok("PATCH", f"/assignment-rules/{rule['id']}", json={"recipients": [{"user_id": second["id"]}]})
    assert edited["version"] == 2
    again = as_manager.ok("POST", f"/assignment-rules/{rule['id']}/apply", json={"lead_ids": mine})
    assert again["assigned"] == [] and {s["lead_id"] for s in again["skipped"]} == set(mine[:2])
    assert [a["user_id"] for a in assignees_of(api, mine[0])] == [first["id"]]
    assert [a["user_id"] for a in assignees_of(api, manual)] == [second["id"]]
    assert [a["permissions"]["contact"] for a in assignees_of(api, manual)] == ["read"]
    assert api.request("DELETE", f"/assignment-rules/{rule['id']}").status_code == 204
    assert api.get(f"/assignment-rules/{rule['id']}").status_code == 404
