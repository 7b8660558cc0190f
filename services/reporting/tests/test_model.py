"""The campaign report's arithmetic, pure (R1, C5): money to the cent, ROI, cost per lead and per win."""
from decimal import Decimal

import pytest

from reporting.model import campaign_report, money

CAMPAIGN = {"id": "C1", "budget": Decimal("10000.00"), "expected_revenue": Decimal("50000"),
            "updated_at": "2024-05-01T09:00:00Z"}
COUNTS = {
    ("leads", "total"): 8, ("leads", "assigned"): 3,
    ("status", "raw"): 5, ("status", "usable"): 1, ("status", "converted"): 2, ("status", "working"): 0,
    ("source", "trade_show"): 6, ("source", "web_form"): 2,
    ("responses", "accepted"): 2, ("responses", "not_reached"): 1,
    ("opportunities", "open"): 2, ("opportunities", "won"): 1, ("opportunities", "lost"): 1,
    ("money", "pipeline"): Decimal("12345.6"), ("money", "won"): 30000,
    ("money", "expenses"): Decimal("1200.10"), ("money", "effort_cost"): Decimal("833.33"),
    ("effort", "hours"): Decimal("12.5"),
}


def test_the_report_adds_up_to_the_cent_R1_C5():
    report = campaign_report(CAMPAIGN, COUNTS)

    assert report["campaign_id"] == "C1"
    assert report["cost"] == {"budget": "10000.00", "expenses": "1200.10", "expense_entries": "1200.10",
                              "activity_costs": "0.00", "effort_hours": 12.5, "effort_cost": "833.33",
                              "total": "2033.43", "budget_used": 0.2033}
    assert report["revenue"] == {"expected": "50000.00", "won": "30000.00", "won_vs_expected": 0.6}
    assert report["opportunities"] == {"open": 2, "won": 1, "lost": 1, "pipeline": "12345.60"}
    assert report["roi"] == 13.7534  # (30000 − 2033.43) / 2033.43
    assert report["cost_per_lead"] == "254.18"  # 2033.43 / 8 = 254.17875
    assert report["cost_per_won"] == "2033.43"
    assert report["conversion_rate"] == 0.25
    assert report["updated_at"] == "2024-05-01T09:00:00Z"


def test_leads_are_shown_by_status_and_source_without_empty_buckets_R1():
    report = campaign_report(CAMPAIGN, COUNTS)

    assert report["leads"] == {"total": 8, "by_status": {"raw": 5, "usable": 1, "converted": 2},
                               "by_source": {"trade_show": 6, "web_form": 2}, "assigned": 3, "unassigned": 0,
                               "deleted": 0, "merged": 0}
    assert report["responses"] == {"accepted": 2, "not_accepted": 0, "not_reached": 1}


def test_roi_is_null_when_nothing_was_spent_R1():
    report = campaign_report(CAMPAIGN, {("leads", "total"): 3, ("money", "won"): 500})

    assert report["roi"] is None
    assert report["cost"]["total"] == "0.00"
    assert report["cost_per_lead"] == "0.00"


def test_a_loss_is_a_negative_roi():
    report = campaign_report(CAMPAIGN, {("money", "expenses"): 1000, ("money", "won"): 250})

    assert report["roi"] == -0.75


def test_an_empty_campaign_has_zeros_and_no_ratios_R1():
    report = campaign_report({"id": "C9"}, {})

    assert report["leads"] == {"total": 0, "by_status": {}, "by_source": {}, "assigned": 0, "unassigned": 0, "deleted": 0,
                               "merged": 0}
    assert report["opportunities"] == {"open": 0, "won": 0, "lost": 0, "pipeline": "0.00"}
    assert report["revenue"] == {"expected": "0.00", "won": "0.00", "won_vs_expected": None}
    assert report["cost"]["budget"] == "0.00"
    assert (report["roi"], report["cost_per_lead"], report["cost_per_won"], report["conversion_rate"]) == \
        (None, None, None, None)


def test_effort_cost_counts_as_cost_even_without_expenses_C4():
    report = campaign_report(CAMPAIGN, {("money", "effort_cost"): Decimal("450.00"), ("effort", "hours"): 3,
                                        ("leads", "total"): 2})

    assert report["cost"]["total"] == "450.00"
    assert report["cost_per_lead"] == "225.00"
    assert report["roi"] == -1.0


def test_half_a_cent_rounds_up_as_money_does():
    report = campaign_report(CAMPAIGN, {("money", "expenses"): 1, ("leads", "total"): 8})

    assert report["cost_per_lead"] == "0.13"  # 1.00 / 8 = 0.125


@pytest.mark.parametrize("value, shown", [(None, "0.00"), (0, "0.00"), ("12.5", "12.50"), (Decimal("0.005"), "0.01"),
                                          (Decimal("-0.005"), "-0.01"), (1234567, "1234567.00")])
def test_money_is_a_two_decimal_string(value, shown):
    assert money(value) == shown


def test_expenses_are_the_entries_plus_the_costs_of_activities_R1():
    report = campaign_report(CAMPAIGN, {("money", "expenses"): Decimal("100.00"),
                                        ("money", "activity_cost"): Decimal("12.50")})

    assert (report["cost"]["expenses"], report["cost"]["expense_entries"], report["cost"]["activity_costs"]) == \
        ("112.50", "100.00", "12.50")
