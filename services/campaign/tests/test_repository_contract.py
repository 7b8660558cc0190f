"""One contract, two implementations (STYLE idioms 8, 9): the fake and the SQLAlchemy campaign
repository on an Alembic-built SQLite database behave the same."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from crmkit.context import RequestContext
from crmkit.envelope import new_id
from crmkit.errors import Conflict
from campaign import handlers
from campaign.model import Campaign

T0 = datetime(2024, 5, 1, 9, 0, 0, 500000, tzinfo=timezone.utc)
CTX = RequestContext(user_id="owner1")


def a_campaign(campaign_id=None, **kw):
    kw.setdefault("name", "Canton Fair")
    kw.setdefault("type", "trade_show")
    return Campaign.create(id=campaign_id or new_id(), now=T0, owner_id=kw.pop("owner_id", "owner1"), **kw)


def add(uow, *campaigns):
    with uow:
        for campaign in campaigns:
            uow.campaigns.add(campaign)
        uow.commit()


def test_a_stored_campaign_comes_back_as_it_was(any_uow):
    campaign = a_campaign(status="active", start_date=date(2024, 4, 15), end_date=date(2024, 4, 19),
                          budget=Decimal("50000.50"), expected_revenue=Decimal("800000"), expected_leads=300,
                          currency="USD", parent_id="P1", description="春季广交会")
    add(any_uow, campaign)

    with any_uow:
        loaded = any_uow.campaigns.get(campaign.id)

    assert loaded.to_dict() == campaign.to_dict()
    assert loaded.budget == Decimal("50000.50")
    assert loaded.start_date == date(2024, 4, 15)


def test_an_unknown_campaign_is_none(any_uow):
    with any_uow:
        assert any_uow.campaigns.get("nope") is None


def test_a_saved_change_is_kept_and_an_unsaved_one_is_not(any_uow):
    campaign = a_campaign()
    add(any_uow, campaign)

    with any_uow:
        loaded = any_uow.campaigns.get(campaign.id)
        loaded.update({"status": "active", "budget": Decimal("10")}, T0)
        any_uow.campaigns.save(loaded)
        any_uow.commit()
    with any_uow:
        loaded = any_uow.campaigns.get(campaign.id)
        loaded.update({"name": "not saved"}, T0)
        any_uow.commit()

    with any_uow:
        stored = any_uow.campaigns.get(campaign.id)
    assert (stored.status, stored.budget, stored.name) == ("active", Decimal("10.00"), "Canton Fair")


def test_what_is_not_committed_is_not_stored(any_uow):
    campaign = a_campaign()
    with any_uow:
        any_uow.campaigns.add(campaign)
        any_uow.emit("campaign.created", campaign.to_dict(), CTX)

    with any_uow:
        assert any_uow.campaigns.get(campaign.id) is None
    assert any_uow.published() == []


def test_campaigns_are_listed_newest_first_after_a_cursor(any_uow):
    add(any_uow, *[a_campaign(f"0{n}") for n in range(4)])

    with any_uow:
        assert [c.id for c in any_uow.campaigns.list({}, 2, None)] == ["03", "02", "01"]
        assert [c.id for c in any_uow.campaigns.list({}, 2, "02")] == ["01", "00"]


@pytest.mark.parametrize("filters, expected", [
    ({}, {"a", "b", "c"}),
    ({"include_archived": True}, {"a", "b", "c", "z"}),
    ({"status": "active"}, {"b"}),
    ({"type": "email"}, {"c"}),
    ({"owner_id": "owner2"}, {"c"}),
    ({"parent_id": "a"}, {"b"}),
    ({"q": "fair"}, {"a", "b"}),
    ({"q": "邮件"}, {"c"}),
    ({"q": "春季"}, {"b"}),           # the description is searched too
    ({"q": "100%"}, set()),           # LIKE wildcards are plain characters
    ({"q": "_"}, set()),
    ({"participant_id": "p1"}, {"a", "c"}),
    ({"visible_to": "p1"}, {"a", "c"}),
    ({"visible_to": "owner2"}, {"c"}),
    # a: 15-19 April; b: from 1 April on (no end); c: until 1 June (no start); z: archived
    ({"date_from": date(2024, 4, 1), "date_to": date(2024, 4, 30)}, {"a", "b", "c"}),
    ({"date_from": date(2024, 4, 20)}, {"b", "c"}),
    ({"date_to": date(2024, 4, 10)}, {"b", "c"}),
    ({"date_from": date(2024, 6, 2)}, {"b"}),
    ({"date_from": date(2024, 4, 16), "date_to": date(2024, 4, 16), "q": "fair"}, {"a", "b"}),
])
def test_campaigns_are_filtered_C1_C2(any_uow, filters, expected):
    z = a_campaign("z", name="Old fair")
    z.archived_at = T0
    a = a_campaign("a", name="Canton Fair", start_date=date(2024, 4, 15), end_date=date(2024, 4, 19))
    a.participants = {"p1": "view"}
    b = a_campaign("b", name="Expo fair", status="active", parent_id="a", start_date=date(2024, 4, 1),
                   description="春季")
    c = a_campaign("c", name="邮件营销", type="email", owner_id="owner2", end_date=date(2024, 6, 1))
    c.participants = {"p1": "edit", "p2": "manage"}
    add(any_uow, a, b, c, z)

    with any_uow:
        assert {c.id for c in any_uow.campaigns.list(filters, 50, None)} == expected


def test_participants_are_stored_replaced_and_go_with_a_destroyed_campaign_C2(any_uow):
    campaign = a_campaign("a")
    campaign.participants = {"p1": "view", "p2": "edit"}
    add(any_uow, campaign, a_campaign("child", parent_id="a"))

    with any_uow:
        loaded = any_uow.campaigns.get("a")
        assert loaded.participants == {"p1": "view", "p2": "edit"}
        assert any_uow.campaigns.has_children("a") and not any_uow.campaigns.has_children("child")
        loaded.participants = {"p2": "manage", "p3": "view"}
        any_uow.campaigns.save(loaded)
        any_uow.campaigns.save_participants(loaded, "owner1")
        any_uow.commit()
    with any_uow:
        assert any_uow.campaigns.get("a").participants == {"p2": "manage", "p3": "view"}
        any_uow.campaigns.remove("a")
        any_uow.campaigns.add(a_campaign("a"))  # the same id again starts with nobody
        any_uow.commit()
    with any_uow:
        assert any_uow.campaigns.get("a").participants == {}


def test_create_update_and_read_back_the_same_way_on_both(any_uow):
    campaign = handlers.create_campaign({"name": "Canton Fair", "type": "trade_show", "budget": Decimal("99.5"),
                                         "start_date": date(2024, 4, 15)}, any_uow, CTX)
    handlers.update_campaign(campaign["id"], {"status": "active", "currency": None}, any_uow, CTX)
    with pytest.raises(Conflict):
        handlers.update_campaign(campaign["id"], {"status": "planned"}, any_uow, CTX)

    stored = handlers.get_campaign(campaign["id"], any_uow, CTX)

    assert (stored["status"], stored["budget"], stored["currency"]) == ("active", "99.50", "CNY")
    assert stored["start_date"] == "2024-04-15"
    assert [e["type"] for e in any_uow.published()] == ["campaign.created", "campaign.updated",
                                                     "campaign.status_changed"]
