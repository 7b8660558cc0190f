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
    assert handlers.list_campaigns({}, uow, owner)["items"] == []


def test_the_owner_updates_a_campaign_and_campaign_updated_says_what_changed_C1(uow, owner):
    campaign = create(uow, owner)

    updated = handlers.update_campaign(campaign["id"], {"status": "active", "budget": Decimal("100")}, uow, owner)

    assert updated["status"] == "active"
    assert handlers.get_campaign(campaign["id"], uow, owner) == updated
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

    stored = handlers.get_campaign(campaign["id"], uow, owner)
    assert (stored["status"], stored["name"]) == ("aborted", "Canton Fair")


def test_only_the_owner_or_a_director_may_change_a_campaign_C2(uow, owner):
    campaign = create(uow, owner)
    stranger = RequestContext(user_id="sales9", roles=("sales_member", "marketing_member"))
    director = RequestContext(user_id="d1", roles=("marketing_director",))

    with pytest.raises(NotFound):  # existence is private to those without access (C2)
        handlers.update_campaign(campaign["id"], {"name": "Mine now"}, uow, stranger)
    handlers.update_campaign(campaign["id"], {"name": "Renamed"}, uow, director)

    assert handlers.get_campaign(campaign["id"], uow, owner)["name"] == "Renamed"


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
        handlers.get_campaign("nope", uow, owner)
    with pytest.raises(NotFound):
        handlers.update_campaign("nope", {"name": "x"}, uow, owner)


def test_campaigns_are_listed_newest_first_a_page_at_a_time(uow, owner):
    ids = [create(uow, owner, name=f"c{n}")["id"] for n in range(3)]

    first = handlers.list_campaigns({}, uow, owner, limit=2)
    second = handlers.list_campaigns({}, uow, owner, limit=2, cursor=first["next_cursor"])

    assert [c["id"] for c in first["items"] + second["items"]] == sorted(ids, reverse=True)
    assert second["next_cursor"] is None


def test_archived_campaigns_leave_the_default_list_C8(uow, owner):
    kept = create(uow, owner, name="kept")
    gone = create(uow, owner, name="gone")
    uow.state["campaigns"][gone["id"]].archived_at = datetime(2024, 1, 1, tzinfo=timezone.utc)

    assert [c["id"] for c in handlers.list_campaigns({}, uow, owner)["items"]] == [kept["id"]]
    assert len(handlers.list_campaigns({"include_archived": True}, uow, owner)["items"]) == 2


def test_an_expense_is_recorded_listed_and_removed_with_an_audit_row_C3(uow, owner):
    campaign = create(uow, owner)
    expense = handlers.record_expense(campaign["id"], {"amount": Decimal("1200.50"), "category": "展位费",
                                                       "date": date(2026, 5, 1), "note": "booth"}, uow, owner)
    handlers.remove_expense(campaign["id"], expense["id"], uow, owner)

    assert expense["amount"] == "1200.50" and expense["category"] == "展位费" and expense["date"] == "2026-05-01"
    assert handlers.list_expenses(campaign["id"], uow, owner)["items"] == []
    [kept] = handlers.list_expenses(campaign["id"], uow, owner, include_removed=True)["items"]
    assert (kept["removed"], kept["removed_by"]) == (True, "owner1")
    assert [e["type"] for e in uow.published()] == ["campaign.created", "campaign.expense_recorded",
                                                    "campaign.expense_removed"]
    assert uow.published("campaign.expense_recorded")[0]["data"]["campaign_id"] == campaign["id"]
    with pytest.raises(Conflict):
        handlers.remove_expense(campaign["id"], expense["id"], uow, owner)


def test_a_stranger_records_no_expense_and_an_unknown_campaign_takes_none_C3(uow, owner):
    campaign = create(uow, owner)
    with pytest.raises(NotFound):  # to a stranger the campaign does not exist (C2)
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
        handlers.get_campaign(campaign["id"], uow, owner)
    assert uow.published()[-1]["type"] == "campaign.deleted"


@pytest.mark.parametrize("usage, expense", [({"leads": 3, "activities": 0}, False),
                                            ({"leads": 0, "activities": 0}, True)])
def test_deleting_a_campaign_with_leads_or_expenses_archives_it_and_it_takes_no_more_C7_C8(
        uow, owner, usage, expense):
    campaign = create(uow, owner)
    if expense:
        handlers.record_expense(campaign["id"], {"amount": Decimal("10"), "category": "print"}, uow, owner)

    outcome = handlers.delete_campaign(campaign["id"], uow, owner, lambda cid: usage)

    archived = handlers.get_campaign(campaign["id"], uow, owner)
    assert outcome == "archived" and archived["archived"] is True and archived["archived_at"]
    assert handlers.list_campaigns({}, uow, owner)["items"] == []
    assert [c["id"] for c in handlers.list_campaigns({"include_archived": True}, uow, owner)["items"]] == [campaign["id"]]
    assert uow.published()[-1]["type"] == "campaign.archived"
    with pytest.raises(Conflict):
        handlers.record_expense(campaign["id"], {"amount": Decimal("1"), "category": "x"}, uow, owner)


# C2: the permission matrix. Existence is private: no access at all looks like no campaign (404);
# some access but not enough is Forbidden (403).
USERS = {
    "owner": RequestContext(user_id="owner1", roles=("marketing_member",)),
    "manage": RequestContext(user_id="m1", roles=("marketing_member",)),
    "edit": RequestContext(user_id="e1", roles=("sales_member",)),
    "view": RequestContext(user_id="v1", roles=("market_member",)),
    "stranger": RequestContext(user_id="s1", roles=("marketing_member", "sales_manager")),
    "admin": RequestContext(user_id="a1", roles=("admin",)),
    "director": RequestContext(user_id="d1", roles=("marketing_director",)),
}
# what each may do: read, change fields, record an expense, change participants, delete
MATRIX = {
    "owner": ("ok", "ok", "ok", "ok", "ok"),
    "manage": ("ok", "ok", "ok", "ok", "ok"),
    "edit": ("ok", "ok", "ok", Forbidden, Forbidden),
    "view": ("ok", Forbidden, Forbidden, Forbidden, Forbidden),
    "stranger": (NotFound, NotFound, NotFound, NotFound, NotFound),
    "admin": ("ok", "ok", "ok", "ok", "ok"),
    "director": ("ok", "ok", "ok", Forbidden, Forbidden),
}
PEOPLE = [{"user_id": "m1", "permission": "manage"}, {"user_id": "e1", "permission": "edit"},
          {"user_id": "v1", "permission": "view"}]


def _acts(campaign_id, uow, ctx):
    return (
        lambda: handlers.get_campaign(campaign_id, uow, ctx),
        lambda: handlers.update_campaign(campaign_id, {"description": f"by {ctx.user_id}"}, uow, ctx),
        lambda: handlers.record_expense(campaign_id, {"amount": Decimal("1"), "category": "x"}, uow, ctx),
        lambda: handlers.set_participants(campaign_id, PEOPLE, uow, ctx),
        lambda: handlers.delete_campaign(campaign_id, uow, ctx, lambda cid: {"leads": 1}),
    )


@pytest.mark.parametrize("who", list(MATRIX))
def test_the_permission_matrix_owner_manage_edit_view_stranger_admin_C2(uow, who):
    campaign = create(uow, USERS["owner"])
    handlers.set_participants(campaign["id"], PEOPLE, uow, USERS["owner"])

    for act, expected in zip(_acts(campaign["id"], uow, USERS[who]), MATRIX[who]):
        if expected == "ok":
            act()
        else:
            with pytest.raises(expected):
                act()
            assert handlers.get_campaign(campaign["id"], uow, USERS["owner"])["archived"] is False


def test_a_user_lists_only_the_campaigns_they_own_or_take_part_in_C2(uow):
    mine = create(uow, USERS["owner"], name="mine")
    shared = create(uow, USERS["admin"], name="shared")
    create(uow, USERS["admin"], name="private")
    handlers.set_participants(shared["id"], [{"user_id": "owner1", "permission": "view"}], uow, USERS["admin"])

    def names(ctx, **filters):
        return {c["name"] for c in handlers.list_campaigns(filters, uow, ctx)["items"]}

    assert names(USERS["owner"]) == {"mine", "shared"}
    assert names(USERS["owner"], participant_id="owner1") == {"shared"}
    assert names(USERS["stranger"]) == set()
    assert names(USERS["admin"]) == names(USERS["director"]) == {"mine", "shared", "private"}
    assert mine["participants"] == []
    with pytest.raises(Invalid):
        handlers.list_campaigns({"date_from": date(2024, 5, 2), "date_to": date(2024, 5, 1)}, uow, USERS["owner"])


def test_participants_are_replaced_and_the_event_says_who_was_added_removed_changed_C2(uow, owner):
    campaign = create(uow, owner)
    handlers.set_participants(campaign["id"], [{"user_id": "a", "permission": "view"},
                                               {"user_id": "b", "permission": "edit"}], uow, owner)

    result = handlers.set_participants(campaign["id"], [{"user_id": "b", "permission": "manage"},
                                                        {"user_id": "c", "permission": "view"}], uow, owner)
    handlers.set_participants(campaign["id"], [{"user_id": "c", "permission": "view"},
                                               {"user_id": "b", "permission": "manage"}], uow, owner)

    assert result["participants"] == [{"user_id": "b", "permission": "manage"},
                                      {"user_id": "c", "permission": "view"}]
    events = uow.published("campaign.participants_changed")
    assert len(events) == 2  # the third call changed nothing and said nothing
    assert events[1]["data"]["changes"] == {
        "added": [{"user_id": "c", "permission": "view"}],
        "removed": [{"user_id": "a", "permission": "view"}],
        "changed": [{"user_id": "b", "from": "edit", "to": "manage"}]}
    assert events[1]["data"]["participants"] == result["participants"]
    with pytest.raises(Invalid) as caught:
        handlers.set_participants(campaign["id"], [{"user_id": "x", "permission": "view"},
                                                   {"user_id": "x", "permission": "edit"}], uow, owner)
    assert list(caught.value.details) == ["1.user_id"]


def test_only_a_manager_of_the_campaign_hands_it_to_a_new_owner_C2(uow, owner):
    campaign = create(uow, owner)
    handlers.set_participants(campaign["id"], PEOPLE, uow, owner)

    with pytest.raises(Forbidden):
        handlers.update_campaign(campaign["id"], {"owner_id": "e1"}, uow, USERS["edit"])
    moved = handlers.update_campaign(campaign["id"], {"owner_id": "e1"}, uow, USERS["manage"])

    assert moved["owner_id"] == "e1"
    with pytest.raises(NotFound):  # the old owner took part only as owner: now a stranger
        handlers.get_campaign(campaign["id"], uow, owner)


def test_a_status_move_emits_campaign_status_changed_too_C1(uow, owner):
    campaign = create(uow, owner)

    handlers.update_campaign(campaign["id"], {"status": "active", "name": "Live"}, uow, owner)
    handlers.update_campaign(campaign["id"], {"name": "Live again"}, uow, owner)

    [moved] = uow.published("campaign.status_changed")
    assert moved["data"]["changes"] == {"status": {"from": "planned", "to": "active"}}
    assert moved["data"]["status"] == "active"
    assert len(uow.published("campaign.updated")) == 2


def test_the_campaign_tree_never_closes_a_cycle_C1(uow, owner):
    top = create(uow, owner, name="programme")
    wave = create(uow, owner, name="wave", parent_id=top["id"])
    leaf = create(uow, owner, name="leaf", parent_id=wave["id"])

    for parent in (leaf["id"], wave["id"], top["id"]):
        with pytest.raises(Invalid) as caught:
            handlers.update_campaign(top["id"], {"parent_id": parent}, uow, owner)
        assert list(caught.value.details) == ["parent_id"]
    other = create(uow, owner, name="other")
    assert handlers.update_campaign(leaf["id"], {"parent_id": other["id"]}, uow, owner)["parent_id"] == other["id"]
    assert handlers.update_campaign(top["id"], {"parent_id": leaf["id"]}, uow, owner)["parent_id"] == leaf["id"]


def test_a_parent_the_caller_cannot_see_is_as_good_as_none_C2(uow, owner):
    hidden = create(uow, USERS["admin"], name="hidden")

    with pytest.raises(Invalid) as caught:
        create(uow, owner, parent_id=hidden["id"])

    assert list(caught.value.details) == ["parent_id"]


def test_a_campaign_with_sub_campaigns_is_archived_not_destroyed_C8(uow, owner):
    top = create(uow, owner, name="programme")
    create(uow, owner, name="wave", parent_id=top["id"])

    assert handlers.delete_campaign(top["id"], uow, owner, lambda cid: {"leads": 0}) == "archived"
