"""Activities, conversion, opportunities and deletion against the fake unit of work (STYLE idiom 8)."""
import json
from decimal import Decimal

import pytest

from crmkit.context import RequestContext
from crmkit.envelope import new_id, now
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound
from lead import handlers, work_handlers as work
from lead.model import Lead

OWNER = RequestContext(user_id="owner1", roles=("marketing_member",), correlation_id="req-1")
SALES = RequestContext(user_id="sales1", roles=("sales_member",))
READER = RequestContext(user_id="reader1", roles=("sales_member",))
STRANGER = RequestContext(user_id="nobody", roles=("sales_member",))
DIRECTOR = RequestContext(user_id="dir1", roles=("marketing_director",))
SALES_MANAGER = RequestContext(user_id="boss1", roles=("sales_manager",))
READ_ONLY = {"contact": "read", "company": "read", "need": "read"}
MEETING = {"type": "meeting", "subject": "拜访上海明辉", "effort_hours": Decimal("2.5")}
TWO_DEALS = {"opportunities": [{"name": "数控机床", "amount": Decimal("120000")},
                               {"name": "维修合同", "amount": Decimal("8000"), "stage": "proposal"}]}


def stored_lead(uow, campaign_id="C1", **kw):
    moment = now()
    lead = Lead.create(id=new_id(), now=moment, owner_id="owner1", campaign_id=campaign_id, pool_id="P1",
                       contact={"name": "王芳", "mobile": "13912345678"}, company={"name": "上海明辉机械有限公司"},
                       need={"description": "两台数控机床"}, tags=["vip"], **kw)
    lead.assign("sales1", None, moment)
    lead.assign("reader1", READ_ONLY, moment)
    with uow:
        uow.leads.add(lead)
        uow.commit()
    return lead.id


@pytest.fixture
def lead_id(uow):
    return stored_lead(uow)


def log(uow, lead_id, ctx, **changes):
    return work.log_activity(lead_id, {**MEETING, **changes}, uow, ctx)


def test_the_owner_and_an_assignee_log_effort_on_the_leads_campaign_L12_C4(uow, lead_id):
    first = log(uow, lead_id, OWNER)
    second = log(uow, lead_id, READER, type="call", effort_hours=Decimal("0.25"), cost=Decimal("12"))

    assert (first["worker_id"], first["campaign_id"], first["effort_hours"]) == ("owner1", "C1", 2.5)
    assert (second["worker_id"], second["cost"]) == ("reader1", "12.00")
    events = uow.published("activity.logged")
    assert [e["data"]["id"] for e in events] == [first["id"], second["id"]]
    assert events[0]["data"]["lead_id"] == lead_id and events[0]["actor_id"] == "owner1"
    assert events[1]["data"]["effort_hours"] == 0.25 and events[1]["data"]["campaign_id"] == "C1"


def test_a_director_may_log_work_on_any_lead_a_stranger_may_not(uow, lead_id):
    assert log(uow, lead_id, DIRECTOR)["worker_id"] == "dir1"
    with pytest.raises(Forbidden):
        log(uow, lead_id, STRANGER)
    assert len(uow.published("activity.logged")) == 1


def test_an_activity_on_an_unknown_lead_or_on_another_leads_opportunity_is_refused(uow, lead_id):
    other = stored_lead(uow)
    deal = work.convert_lead(other, TWO_DEALS, uow, OWNER)["opportunity_ids"][0]

    with pytest.raises(NotFound):
        log(uow, "nope", OWNER)
    with pytest.raises(Invalid) as caught:
        log(uow, lead_id, OWNER, opportunity_id=deal)
    assert "opportunity_id" in caught.value.details
    assert log(uow, other, OWNER, opportunity_id=deal)["opportunity_id"] == deal


def test_a_leads_activities_come_oldest_first_page_by_page(uow, lead_id):
    logged = [log(uow, lead_id, SALES, subject=f"call {n}")["id"] for n in range(3)]
    log(uow, stored_lead(uow), OWNER)

    first = work.list_lead_activities(lead_id, uow, OWNER, limit=2)
    rest = work.list_lead_activities(lead_id, uow, OWNER, limit=2, cursor=first["next_cursor"])

    assert [a["id"] for a in first["items"] + rest["items"]] == sorted(logged)  # ids sort by time (ms)
    assert rest["next_cursor"] is None


def test_activities_are_listed_by_campaign_lead_or_worker(uow, lead_id):
    mine = log(uow, lead_id, OWNER)
    theirs = log(uow, lead_id, SALES)
    elsewhere = log(uow, stored_lead(uow, campaign_id="C2"), OWNER)

    def ids(**filters):
        return [a["id"] for a in work.list_activities(filters, uow)["items"]]

    assert ids(campaign_id="C1") == sorted([mine["id"], theirs["id"]])
    assert ids(worker_id="owner1") == sorted([mine["id"], elsewhere["id"]])
    assert ids(lead_id=lead_id, worker_id="sales1") == [theirs["id"]]


# -- deletion (C7) ------------------------------------------------------------------------------------

def test_deleting_a_lead_keeps_its_effort_in_the_campaign_C7(uow, lead_id):
    activities = [log(uow, lead_id, OWNER), log(uow, lead_id, SALES, effort_hours=Decimal("1.25"))]
    converted = work.convert_lead(lead_id, TWO_DEALS, uow, OWNER)

    work.delete_lead(lead_id, uow, OWNER)

    with pytest.raises(NotFound):
        handlers.get_lead(lead_id, uow, OWNER)
    with pytest.raises(NotFound):
        work.list_lead_activities(lead_id, uow, OWNER)
    kept = work.list_activities({"campaign_id": "C1"}, uow)["items"]
    assert [a["id"] for a in kept] == sorted(a["id"] for a in activities)
    assert {o["id"] for o in work.list_opportunities({"campaign_id": "C1"}, uow)["items"]} == \
        set(converted["opportunity_ids"])
    assert handlers.close_campaign("C1", uow)["activities"] == 2


def test_lead_deleted_says_what_was_kept_and_nothing_personal(uow, lead_id):
    log(uow, lead_id, OWNER)
    log(uow, lead_id, SALES, effort_hours=Decimal("1.25"))

    work.delete_lead(lead_id, uow, DIRECTOR)

    [event] = uow.published("lead.deleted")
    data = event["data"]
    assert (data["id"], data["campaign_id"], data["activities"], data["effort_hours"]) == (lead_id, "C1", 2, 3.75)
    assert data["deleted_at"] and event["actor_id"] == "dir1"
    assert "王芳" not in json.dumps(event, ensure_ascii=False) and "contact" not in data
    [row] = [r for r in uow.state["history"] if r["action"] == "deleted"]
    assert row["actor_id"] == "dir1"
    assert not any(uow.state["deleted_leads"][lead_id].contact.values())


def test_only_the_owner_an_admin_or_a_director_deletes_a_lead_and_only_once(uow, lead_id):
    for ctx in (SALES, SALES_MANAGER):
        with pytest.raises(Forbidden):
            work.delete_lead(lead_id, uow, ctx)

    work.delete_lead(lead_id, uow, OWNER)

    with pytest.raises(NotFound):
        work.delete_lead(lead_id, uow, OWNER)
    assert len(uow.published("lead.deleted")) == 1


def test_a_deleted_leads_activities_still_keep_its_campaign_from_being_destroyed_C8(uow, lead_id):
    log(uow, lead_id, SALES)
    work.delete_lead(lead_id, uow, OWNER)

    assert handlers.close_campaign("C1", uow)["activities"] == 1
    assert handlers.close_campaign("C2", uow)["activities"] == 0


# -- conversion (L10) ---------------------------------------------------------------------------------

def test_converting_makes_an_account_and_opportunities_that_keep_lead_campaign_and_pool_L10(uow, lead_id):
    result = work.convert_lead(lead_id, TWO_DEALS, uow, SALES)

    assert set(result) == {"lead_id", "opportunity_ids", "account_id"} and len(result["opportunity_ids"]) == 2
    assert handlers.get_lead(lead_id, uow, OWNER)["status"] == "converted"
    deals = [work.get_opportunity(o, uow) for o in result["opportunity_ids"]]
    assert {(d["lead_id"], d["campaign_id"], d["pool_id"], d["account_id"], d["owner_id"]) for d in deals} == \
        {(lead_id, "C1", "P1", result["account_id"], "sales1")}
    assert [(d["amount"], d["stage"]) for d in deals] == [("120000.00", "qualification"), ("8000.00", "proposal")]
    assert work.get_account(result["account_id"], uow)["name"] == "上海明辉机械有限公司"


def test_converting_emits_lead_converted_and_each_opportunity_and_writes_history(uow, lead_id):
    result = work.convert_lead(lead_id, {**TWO_DEALS, "account": {"name": "明辉"}}, uow, OWNER)

    [converted] = uow.published("lead.converted")
    assert converted["data"]["status"] == "converted"
    assert (converted["data"]["opportunity_ids"], converted["data"]["account_id"]) == \
        (result["opportunity_ids"], result["account_id"])
    created = uow.published("opportunity.created")
    assert [e["data"]["id"] for e in created] == result["opportunity_ids"]
    assert all(e["data"]["campaign_id"] == "C1" for e in created)
    assert uow.commits == 2  # the lead, then everything of the conversion at once
    [row] = [r for r in uow.state["history"] if r["action"] == "converted"]
    assert json.loads(row["changes"])["status"] == {"from": "raw", "to": "converted"}
    assert work.get_account(result["account_id"], uow)["name"] == "明辉"


def test_a_converted_lead_is_not_converted_again(uow, lead_id):
    work.convert_lead(lead_id, TWO_DEALS, uow, OWNER)
    with pytest.raises(Conflict):
        work.convert_lead(lead_id, TWO_DEALS, uow, OWNER)
    assert len(uow.published("opportunity.created")) == 2


def test_a_read_only_assignee_or_a_stranger_does_not_convert_a_lead(uow, lead_id):
    for ctx in (READER, STRANGER):
        with pytest.raises(Forbidden):
            work.convert_lead(lead_id, TWO_DEALS, uow, ctx)
    assert work.convert_lead(lead_id, TWO_DEALS, uow, DIRECTOR)["lead_id"] == lead_id


def test_a_bad_opportunity_fails_the_whole_conversion(uow, lead_id):
    bad = {"opportunities": [TWO_DEALS["opportunities"][0], {"name": "x", "amount": Decimal(-5)}]}
    with pytest.raises(Invalid):
        work.convert_lead(lead_id, bad, uow, OWNER)
    assert handlers.get_lead(lead_id, uow, OWNER)["status"] == "raw"
    assert uow.published("lead.converted") == []


# -- opportunities (L11) ------------------------------------------------------------------------------

@pytest.fixture
def deals(uow, lead_id):
    return work.convert_lead(lead_id, TWO_DEALS, uow, SALES)["opportunity_ids"]


def test_one_opportunity_is_won_another_lost_L11(uow, deals):
    won = work.win_opportunity(deals[0], {"amount": Decimal("110000")}, uow, SALES)
    lost = work.lose_opportunity(deals[1], {"reason": "预算取消"}, uow, SALES)

    assert (won["status"], won["won_amount"], won["amount"]) == ("won", "110000.00", "120000.00")
    assert (lost["status"], lost["lost_reason"], lost["won_amount"]) == ("lost", "预算取消", None)
    assert uow.published("opportunity.won")[0]["data"]["won_amount"] == "110000.00"
    assert uow.published("opportunity.lost")[0]["data"]["campaign_id"] == "C1"
    assert [o["status"] for o in work.list_opportunities({"status": "won"}, uow)["items"]] == ["won"]


def test_won_and_lost_are_final_L11(uow, deals):
    work.win_opportunity(deals[0], {}, uow, SALES)
    assert work.get_opportunity(deals[0], uow)["won_amount"] == "120000.00"

    for change in (lambda: work.win_opportunity(deals[0], {}, uow, SALES),
                   lambda: work.lose_opportunity(deals[0], {"reason": "x"}, uow, SALES),
                   lambda: work.update_opportunity(deals[0], {"amount": Decimal(1)}, uow, SALES)):
        with pytest.raises(Conflict):
            change()
    assert len(uow.published("opportunity.won")) == 1


def test_updating_an_opportunity_emits_its_changes_only_when_something_changed(uow, deals):
    updated = work.update_opportunity(deals[0], {"stage": "negotiation", "probability": 80}, uow, OWNER)
    work.update_opportunity(deals[0], {"stage": "negotiation"}, uow, OWNER)

    assert (updated["stage"], updated["probability"]) == ("negotiation", 80)
    [event] = uow.published("opportunity.updated")
    assert event["data"]["changes"] == {"stage": {"from": "qualification", "to": "negotiation"},
                                        "probability": {"from": 10, "to": 80}}


@pytest.mark.parametrize("ctx, allowed", [(SALES, True), (OWNER, True), (DIRECTOR, True), (SALES_MANAGER, True),
                                          (READER, False), (STRANGER, False)],
                         ids=["its-owner", "the-leads-owner", "director", "sales-manager", "assignee", "stranger"])
def test_who_may_close_an_opportunity(uow, deals, ctx, allowed):
    if allowed:
        assert work.lose_opportunity(deals[1], {"reason": "没有预算"}, uow, ctx)["status"] == "lost"
    else:
        with pytest.raises(Forbidden):
            work.lose_opportunity(deals[1], {"reason": "没有预算"}, uow, ctx)


def test_an_unknown_opportunity_is_not_found(uow):
    for call in (lambda: work.get_opportunity("nope", uow),
                 lambda: work.win_opportunity("nope", {}, uow, DIRECTOR)):
        with pytest.raises(NotFound):
            call()
