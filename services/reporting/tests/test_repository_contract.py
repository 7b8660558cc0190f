"""One contract, two implementations (STYLE idioms 8, 9): the fake and the SQLAlchemy report
repository on an Alembic-built SQLite database behave the same."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from crmkit import envelope
from crmkit.envelope import iso
from reporting import handlers

T0 = datetime(2024, 5, 1, 9, 0, 0, 750000, tzinfo=timezone.utc)
T1 = T0 + timedelta(minutes=1)


def test_a_campaign_is_upserted_and_read_back(any_uow):
    with any_uow:
        any_uow.reports.put_campaign({"id": "C1", "name": "广交会", "budget": "100.50", "expected_revenue": None}, T0)
        any_uow.commit()
    with any_uow:
        any_uow.reports.put_campaign({"id": "C1", "name": "广交会 (春)", "budget": "200.00",
                                      "expected_revenue": "900.00"}, T1)
        any_uow.commit()

    with any_uow:
        row = any_uow.reports.campaign("C1")
        missing = any_uow.reports.campaign("C2")

    assert row["name"] == "广交会 (春)"
    assert Decimal(row["budget"]) == Decimal("200.00")
    assert Decimal(row["expected_revenue"]) == Decimal("900.00")
    assert iso(row["updated_at"]) == iso(T1)
    assert missing is None


def test_touching_a_campaign_creates_it_or_only_moves_its_time(any_uow):
    with any_uow:
        any_uow.reports.touch_campaign("C1", T0)
        any_uow.reports.put_campaign({"id": "C2", "name": "kept", "budget": "5.00"}, T0)
        any_uow.reports.touch_campaign("C2", T1)
        any_uow.commit()

    with any_uow:
        c1, c2 = any_uow.reports.campaign("C1"), any_uow.reports.campaign("C2")

    assert (c1["id"], c1["name"], c1["budget"], iso(c1["updated_at"])) == ("C1", None, None, iso(T0))
    assert (c2["name"], Decimal(c2["budget"]), iso(c2["updated_at"])) == ("kept", Decimal("5.00"), iso(T1))


def test_counters_add_up_per_campaign_dimension_and_key(any_uow):
    with any_uow:
        for _ in range(3):
            any_uow.reports.add("C1", "leads", "total", 1)
        any_uow.reports.add("C1", "status", "raw", 1)
        any_uow.reports.add("C1", "status", "raw", -1)
        any_uow.reports.add("C2", "leads", "total", 1)
        any_uow.commit()
    with any_uow:
        any_uow.reports.add("C1", "money", "expenses", Decimal("0.10"))
        any_uow.reports.add("C1", "money", "expenses", Decimal("0.20"))
        any_uow.commit()

    with any_uow:
        counts = any_uow.reports.counts("C1")

    assert counts[("leads", "total")] == 3
    assert isinstance(counts[("leads", "total")], int)
    assert counts[("status", "raw")] == 0
    assert Decimal(counts[("money", "expenses")]) == Decimal("0.30")
    assert len(counts) == 3


def test_what_reporting_knows_of_a_lead_is_added_then_marked_assigned(any_uow):
    with any_uow:
        any_uow.reports.add_lead({"id": "L1", "campaign_id": "C1", "status": "raw", "source": "web_form",
                                  "assigned": "0", "updated_at": T0})
        any_uow.commit()
    with any_uow:
        any_uow.reports.mark_assigned("L1", T1)
        any_uow.commit()

    with any_uow:
        fact = any_uow.reports.lead("L1")
        missing = any_uow.reports.lead("L2")

    assert {k: fact[k] for k in ("id", "campaign_id", "status", "source", "assigned")} == \
        {"id": "L1", "campaign_id": "C1", "status": "raw", "source": "web_form", "assigned": "1"}
    assert iso(fact["updated_at"]) == iso(T1)
    assert missing is None


def test_what_is_not_committed_is_not_stored(any_uow):
    with any_uow:
        any_uow.reports.add("C1", "leads", "total", 1)
        any_uow.reports.add_lead({"id": "L1", "campaign_id": "C1", "status": "raw", "source": None,
                                  "assigned": "0", "updated_at": T0})
        any_uow.reports.touch_campaign("C1", T0)

    with any_uow:
        assert any_uow.reports.counts("C1") == {}
        assert any_uow.reports.lead("L1") is None
        assert any_uow.reports.campaign("C1") is None


def test_events_build_the_same_report_on_both_R1_R2(any_uow):
    created = envelope.new_event("lead.created", {"id": "L1", "campaign_id": "C1", "status": "raw",
                                                  "source": "trade_show", "assignees": []})
    assigned = envelope.new_event("lead.assigned", {"id": "L1", "campaign_id": "C1", "status": "raw",
                                                    "source": "trade_show", "assignees": [{"user_id": "s1"}]})
    other = envelope.new_event("lead.created", {"id": "L2", "campaign_id": "C1", "source": "web_form"})
    campaign = envelope.new_event("campaign.created", {"id": "C1", "name": "Expo", "budget": "1000.00",
                                                       "expected_revenue": "5000.00"})

    for event in (assigned, created, assigned, other, created):
        handlers.on_lead_event(event, any_uow)
    handlers.on_campaign_event(campaign, any_uow)
    report = handlers.get_campaign_report("C1", any_uow)

    assert report["leads"] == {"total": 2, "by_status": {"raw": 2},
                               "by_source": {"trade_show": 1, "web_form": 1}, "assigned": 1}
    assert report["cost"]["budget"] == "1000.00"
    assert report["revenue"]["expected"] == "5000.00"
    assert report["roi"] is None
