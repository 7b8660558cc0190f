"""Campaign use cases against the fake unit of work (STYLE idiom 8)."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from crmkit.context import RequestContext
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound
from campaign import handlers


def create(uow, ctx, **cmd):
    return handlers.create_campaign({"name": "Canton Fair", "type": "trade_show", **cmd}, uow, ctx)


def test_creating_a_campaign_emits_campaign_created_with_the_caller_as_actor_C1_P2(uow, owner):
    campaign = create(uow, owner, budget=Decimal("5000"))

    [event] = uow.published()
    assert event["type"] == "campaign.created"
    assert event["actor_id"] == "owner1"
    assert event["data"] == campaign
    assert campaign["budget"] == "5000.00"
    assert uow.commits == 1


def test_the_caller_owns_a_new_campaign_unless_an_owner_is_named_C2(uow, owner):
    assert create(uow, owner)["owner_id"] == "owner1"
    assert create(uow, owner, owner_id="director2")["owner_id"] == "director2"


def test_a_campaign_may_have_a_parent_that_exists_C1(uow, owner):
    parent = create(uow, owner, name="Spring fairs")

    child = create(uow, owner, parent_id=parent["id"])

    assert child["parent_id"] == parent["id"]
    with pytest.raises(Invalid) as caught:
        create(uow, owner, parent_id="NOPE")
    assert list(caught.value.details) == ["parent_id"]
    assert len(uow.published()) == 2


def test_an_invalid_campaign_leaves_nothing_behind(uow, owner):
    with pytest.raises(Invalid):
        create(uow, owner, start_date=date(2024, 5, 2), end_date=date(2024, 5, 1))

    assert uow.published() == []
    assert handlers.list_campaigns({}, uow)["items"] == []


def test_the_owner_updates_a_campaign_and_campaign_updated_says_what_changed_C1(uow, owner):
    campaign = create(uow, owner)

    updated = handlers.update_campaign(campaign["id"], {"status": "active", "budget": Decimal("100")}, uow, owner)

    assert updated["status"] == "active"
    assert handlers.get_campaign(campaign["id"], uow) == updated
    event = uow.published("campaign.updated")[0]
    assert event["data"]["changes"] == {"status": {"from": "planned", "to": "active"},
                                        "budget": {"from": None, "to": "100.00"}}
    assert event["data"]["id"] == campaign["id"]


def test_an_update_that_changes_nothing_emits_nothing(uow, owner):
    campaign = create(uow, owner)

    handlers.update_campaign(campaign["id"], {"name": "Canton Fair"}, uow, owner)

    assert uow.published("campaign.updated") == []


def test_a_forbidden_status_move_is_a_conflict_and_changes_nothing_C1(uow, owner):
    campaign = create(uow, owner)
    handlers.update_campaign(campaign["id"], {"status": "aborted"}, uow, owner)

    with pytest.raises(Conflict):
        handlers.update_campaign(campaign["id"], {"status": "active", "name": "Revived"}, uow, owner)

    stored = handlers.get_campaign(campaign["id"], uow)
    assert (stored["status"], stored["name"]) == ("aborted", "Canton Fair")


def test_only_the_owner_or_a_director_may_change_a_campaign_C2(uow, owner):
    campaign = create(uow, owner)
    stranger = RequestContext(user_id="sales9", roles=("sales_member", "marketing_member"))
    director = RequestContext(user_id="d1", roles=("marketing_director",))

    with pytest.raises(Forbidden):
        handlers.update_campaign(campaign["id"], {"name": "Mine now"}, uow, stranger)
    handlers.update_campaign(campaign["id"], {"name": "Renamed"}, uow, director)

    assert handlers.get_campaign(campaign["id"], uow)["name"] == "Renamed"


def test_a_campaign_cannot_be_its_own_parent(uow, owner):
    campaign = create(uow, owner)

    with pytest.raises(Invalid) as caught:
        handlers.update_campaign(campaign["id"], {"parent_id": campaign["id"]}, uow, owner)

    assert list(caught.value.details) == ["parent_id"]


def test_a_null_currency_in_an_update_keeps_the_campaigns_currency(uow, owner):
    campaign = create(uow, owner, currency="EUR")

    assert handlers.update_campaign(campaign["id"], {"currency": None}, uow, owner)["currency"] == "EUR"


def test_an_unknown_campaign_is_not_found(uow, owner):
    with pytest.raises(NotFound):
        handlers.get_campaign("nope", uow)
    with pytest.raises(NotFound):
        handlers.update_campaign("nope", {"name": "x"}, uow, owner)


def test_campaigns_are_listed_newest_first_a_page_at_a_time(uow, owner):
    ids = [create(uow, owner, name=f"c{n}")["id"] for n in range(3)]

    first = handlers.list_campaigns({}, uow, limit=2)
    second = handlers.list_campaigns({}, uow, limit=2, cursor=first["next_cursor"])

    assert [c["id"] for c in first["items"] + second["items"]] == sorted(ids, reverse=True)
    assert second["next_cursor"] is None


def test_archived_campaigns_leave_the_default_list_C8(uow, owner):
    kept = create(uow, owner, name="kept")
    gone = create(uow, owner, name="gone")
    uow.state["campaigns"][gone["id"]].archived_at = datetime(2024, 1, 1, tzinfo=timezone.utc)

    assert [c["id"] for c in handlers.list_campaigns({}, uow)["items"]] == [kept["id"]]
    assert len(handlers.list_campaigns({"include_archived": True}, uow)["items"]) == 2


def test_an_expense_is_recorded_listed_and_removed_with_an_audit_row_C3(uow, owner):
    campaign = create(uow, owner)
    expense = handlers.record_expense(campaign["id"], {"amount": Decimal("1200.50"), "category": "展位费",
                                                       "date": date(2026, 5, 1), "note": "booth"}, uow, owner)
    handlers.remove_expense(campaign["id"], expense["id"], uow, owner)

    assert expense["amount"] == "1200.50" and expense["category"] == "展位费" and expense["date"] == "2026-05-01"
    assert handlers.list_expenses(campaign["id"], uow)["items"] == []
    [kept] = handlers.list_expenses(campaign["id"], uow, include_removed=True)["items"]
    assert (kept["removed"], kept["removed_by"]) == (True, "owner1")
    assert [e["type"] for e in uow.published()] == ["campaign.created", "campaign.expense_recorded",
                                                    "campaign.expense_removed"]
    assert uow.published("campaign.expense_recorded")[0]["data"]["campaign_id"] == campaign["id"]
    with pytest.raises(Conflict):
        handlers.remove_expense(campaign["id"], expense["id"], uow, owner)


def test_a_stranger_records_no_expense_and_an_unknown_campaign_takes_none_C3(uow, owner):
    campaign = create(uow, owner)
    with pytest.raises(Forbidden):
        handlers.record_expense(campaign["id"], {"amount": Decimal("1"), "category": "x"}, uow,
                                RequestContext(user_id="stranger", roles=("sales_member",)))
    with pytest.raises(NotFound):
        handlers.record_expense("nope", {"amount": Decimal("1"), "category": "x"}, uow, owner)


def test_deleting_an_empty_campaign_destroys_it_C8(uow, owner):
    campaign = create(uow, owner)
    asked = []

    outcome = handlers.delete_campaign(campaign["id"], uow, owner,
                                       lambda cid: asked.append(cid) or {"leads": 0, "activities": 0})

    assert outcome == "deleted" and asked == [campaign["id"]]
    with pytest.raises(NotFound):
        handlers.get_campaign(campaign["id"], uow)
    assert uow.published()[-1]["type"] == "campaign.deleted"


@pytest.mark.parametrize("usage, expense", [({"leads": 3, "activities": 0}, False),
                                            ({"leads": 0, "activities": 0}, True)])
def test_deleting_a_campaign_with_leads_or_expenses_archives_it_and_it_takes_no_more_C7_C8(
        uow, owner, usage, expense):
    campaign = create(uow, owner)
    if expense:
        handlers.record_expense(campaign["id"], {"amount": Decimal("10"), "category": "print"}, uow, owner)

    outcome = handlers.delete_campaign(campaign["id"], uow, owner, lambda cid: usage)

    archived = handlers.get_campaign(campaign["id"], uow)
    assert outcome == "archived" and archived["archived"] is True and archived["archived_at"]
    assert handlers.list_campaigns({}, uow)["items"] == []
    assert [c["id"] for c in handlers.list_campaigns({"include_archived": True}, uow)["items"]] == [campaign["id"]]
    assert uow.published()[-1]["type"] == "campaign.archived"
    with pytest.raises(Conflict):
        handlers.record_expense(campaign["id"], {"amount": Decimal("1"), "category": "x"}, uow, owner)
