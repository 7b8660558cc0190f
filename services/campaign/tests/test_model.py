"""The campaign model, pure (C1): types, the status lifecycle, dates, partial updates, money."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import product

import pytest

from crmkit.errors import Conflict, Invalid
from campaign.model import STATUSES, TRANSITIONS, TYPES, Campaign, money

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=2)

ALLOWED = {("planned", "active"), ("planned", "aborted"), ("active", "completed"), ("active", "aborted")}


def make(**kw):
    kw.setdefault("name", "Canton Fair 2024")
    kw.setdefault("type", "trade_show")
    return Campaign.create(id="C1", now=NOW, owner_id="owner1", **kw)


def test_the_campaign_types_are_the_nine_of_c1():
    assert set(TYPES) == {"trade_show", "seminar", "web_registration", "customer_pyramid",
                          "lead_reactivation", "email", "advertising", "telemarketing", "other"}


def test_a_new_campaign_is_planned_in_cny_unless_told_otherwise_C1():
    campaign = make(currency=None, status=None, budget=None)

    assert campaign.status == "planned"
    assert campaign.currency == "CNY"
    assert campaign.budget is None
    assert campaign.created_at == campaign.updated_at == NOW


def test_a_campaign_keeps_what_it_is_given_C1():
    campaign = make(status="active", start_date=date(2024, 4, 15), end_date=date(2024, 4, 19),
                    budget=Decimal("50000.00"), expected_revenue=Decimal("800000"), expected_leads=300,
                    currency="USD", parent_id="P1", description="春季广交会")

    data = campaign.to_dict()

    assert data["status"] == "active"
    assert (data["start_date"], data["end_date"]) == ("2024-04-15", "2024-04-19")
    assert (data["budget"], data["expected_revenue"]) == ("50000.00", "800000.00")
    assert (data["expected_leads"], data["currency"], data["parent_id"]) == (300, "USD", "P1")
    assert data["description"] == "春季广交会"
    assert data["archived"] is False and data["archived_at"] is None


@pytest.mark.parametrize("start, end", [(date(2024, 4, 15), date(2024, 4, 14)),
                                        (date(2024, 1, 1), date(2023, 12, 31))])
def test_a_campaign_cannot_end_before_it_starts_C1(start, end):
    with pytest.raises(Invalid) as caught:
        make(start_date=start, end_date=end)

    assert list(caught.value.details) == ["end_date"]


def test_a_one_day_campaign_ends_the_day_it_starts():
    assert make(start_date=date(2024, 4, 15), end_date=date(2024, 4, 15)).end_date == date(2024, 4, 15)


@pytest.mark.parametrize("start, end", list(product(STATUSES, STATUSES)))
def test_the_status_moves_planned_active_completed_or_aborted_and_nothing_else_C1(start, end):
    campaign = make(status=start)

    if start == end:
        assert campaign.update({"status": end}, LATER) == {}
    elif (start, end) in ALLOWED:
        assert campaign.update({"status": end}, LATER) == {"status": {"from": start, "to": end}}
        assert campaign.status == end
    else:
        with pytest.raises(Conflict) as caught:
            campaign.update({"status": end}, LATER)
        assert "status" in caught.value.details
        assert campaign.status == start


def test_the_transition_table_matches_c1():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


def test_an_update_reports_what_changed_from_what_to_what():
    campaign = make(budget=Decimal("1000.00"), start_date=date(2024, 4, 1))

    diff = campaign.update({"name": "Canton Fair (spring)", "budget": Decimal("1500.5"),
                            "start_date": date(2024, 4, 2), "currency": "CNY"}, LATER)

    assert diff == {"name": {"from": "Canton Fair 2024", "to": "Canton Fair (spring)"},
                    "budget": {"from": "1000.00", "to": "1500.50"},
                    "start_date": {"from": "2024-04-01", "to": "2024-04-02"}}
    assert campaign.updated_at == LATER


def test_an_update_that_changes_nothing_leaves_updated_at_alone():
    campaign = make(budget=Decimal("1000.00"))

    assert campaign.update({"name": "Canton Fair 2024", "budget": Decimal("1000")}, LATER) == {}
    assert campaign.updated_at == NOW


def test_an_update_may_clear_an_optional_field():
    campaign = make(description="old text")

    assert campaign.update({"description": None}, LATER) == {"description": {"from": "old text", "to": None}}


def test_a_null_currency_in_an_update_keeps_the_currency_a_campaign_always_has_one_C1():
    campaign = make(currency="USD")

    assert campaign.update({"currency": None}, LATER) == {}
    assert campaign.currency == "USD"


def test_an_update_cannot_move_the_end_before_the_start_C1():
    campaign = make(start_date=date(2024, 4, 15), end_date=date(2024, 4, 19))

    with pytest.raises(Invalid):
        campaign.update({"end_date": date(2024, 4, 1)}, LATER)
    with pytest.raises(Invalid):
        campaign.update({"start_date": date(2024, 5, 1)}, LATER)


def test_a_campaign_keeps_its_name():
    with pytest.raises(Invalid) as caught:
        make().update({"name": ""}, LATER)

    assert list(caught.value.details) == ["name"]


def test_an_archived_campaign_cannot_be_changed_C8():
    campaign = make()
    campaign.archived_at = NOW

    with pytest.raises(Conflict):
        campaign.update({"description": "too late"}, LATER)
    assert campaign.to_dict()["archived"] is True
    assert campaign.to_dict()["archived_at"] == "2024-05-01T09:00:00Z"


@pytest.mark.parametrize("value, shown", [(None, None), (0, "0.00"), ("1234.5", "1234.50"),
                                          (Decimal("99.999"), "100.00"), (Decimal("0.10"), "0.10"),
                                          (7, "7.00")])
def test_money_is_a_decimal_string_with_two_decimals(value, shown):
    assert money(value) == shown
