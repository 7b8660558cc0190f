"""The projections end to end on the real tables (R1–R4, R6, C4, C7): a whole campaign's events give
hand-computed figures to the cent, whatever the order and however often they are delivered, and a
rebuild from the kept events gives the same report."""
import random
from datetime import datetime, timedelta, timezone

import pytest

from crmkit.envelope import iso
from crmkit.errors import Invalid, NotFound
from reporting import handlers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def at(minutes):
    return iso(T0 + timedelta(minutes=minutes))


class Story:
    """Events as the services publish them, each at its own minute."""

    def __init__(self):
        self.events = []

    def event(self, minute, event_type, data, actor="u-admin"):
        self.events.append({"event_id": f"e{len(self.events):03d}", "type": event_type, "version": 1,
                            "occurred_at": at(minute), "actor_id": actor, "data": data})

    def lead(self, minute, event_type, lead_id, status="raw", campaign_id="C1", source="trade_show",
             assignees=(), **extra):
        self.event(minute, event_type, {"id": lead_id, "campaign_id": campaign_id, "status": status,
                                         "source": source, "owner_id": "u-owner", "pool_id": "P1",
                                         "assignees": [{"user_id": u, "permissions": {}} for u in assignees],
                                         "created_at": at(1), "updated_at": at(minute), **extra})

    def activity(self, minute, activity_id, lead_id, worker, hours, cost=None, campaign_id="C1"):
        self.event(minute, "activity.logged", {"id": activity_id, "lead_id": lead_id, "campaign_id": campaign_id,
                                               "worker_id": worker, "effort_hours": hours, "cost": cost,
                                               "occurred_at": at(minute), "created_at": at(minute)}, worker)

    def opportunity(self, minute, event_type, opportunity_id, status, amount, won_amount=None):
        self.event(minute, event_type, {"id": opportunity_id, "lead_id": "L1", "campaign_id": "C1",
                                         "owner_id": "u-b", "status": status, "amount": amount,
                                         "won_amount": won_amount, "created_at": at(20), "updated_at": at(minute),
                                         "closed_at": at(minute) if status != "open" else None})


def campaign_story():
    """Budget 10000, expected 50000; expenses; effort by A (120/h, later 150/h), B (80/h) and C (no
    rate: the default 50/h); a deleted lead with effort; a lead converted into two opportunities,
    one won, one lost; a child campaign."""
    s = Story()
    s.event(0, "settings.updated", {"default_hourly_rate": "50.00", "permission_conflict_policy": "assignment_wins"})
    for user, rate in (("u-a", "120.00"), ("u-b", "80.00"), ("u-c", None)):
        s.event(0, "user.created", {"id": user, "team": None, "hourly_rate": rate, "active": True})
    s.event(0, "campaign.created", {"id": "C1", "name": "广交会", "budget": "10000.00",
                                    "expected_revenue": "50000.00", "parent_id": None, "updated_at": at(0)})
    s.event(0, "campaign.created", {"id": "C2", "name": "广交会 · 分会场", "budget": "1000.00",
                                    "expected_revenue": None, "parent_id": "C1", "updated_at": at(0)})
    s.event(2, "campaign.updated", {"id": "C1", "name": "广交会 2026", "budget": "10000.00",
                                    "expected_revenue": "50000.00", "parent_id": None, "updated_at": at(2)})
    s.event(3, "campaign.expense_recorded", {"id": "X1", "campaign_id": "C1", "amount": "1200.50"})
    s.event(3, "campaign.expense_recorded", {"id": "X2", "campaign_id": "C1", "amount": "99.50"})
    s.event(4, "campaign.expense_removed", {"id": "X2", "campaign_id": "C1", "amount": "99.50"})
    s.event(4, "campaign.expense_recorded", {"id": "X3", "campaign_id": "C2", "amount": "500.00"})
    s.lead(1, "lead.created", "L1")
    s.lead(1, "lead.created", "L2", source="web_form")
    s.lead(1, "lead.created", "L3")
    s.lead(1, "lead.created", "L4", campaign_id="C2")
    s.lead(5, "lead.status_changed", "L1", status="usable")
    s.lead(6, "lead.assigned", "L1", status="usable", assignees=("u-b",))
    s.activity(10, "A1", "L1", "u-a", 2, "12.50")
    s.activity(11, "A2", "L1", "u-b", 1.5)
    s.activity(12, "A3", "L2", "u-c", 1)
    s.activity(13, "A4", "L2", "u-b", 3)
    s.event(14, "lead.deleted", {"id": "L2", "campaign_id": "C1", "pool_id": "P1", "owner_id": "u-owner",
                                 "source": "web_form", "status": "raw", "deleted_at": at(14), "activities": 2,
                                 "effort_hours": 4.0})
    s.lead(15, "lead.response_recorded", "L1", status="usable", assignees=("u-b",),
           response={"response": "accepted", "user_id": "u-b", "at": at(15)})
    s.lead(20, "lead.converted", "L1", status="converted", assignees=("u-b",), opportunity_ids=["O1", "O2"])
    s.opportunity(20, "opportunity.created", "O1", "open", "240000.00")
    s.opportunity(20, "opportunity.created", "O2", "open", "36000.00")
    s.opportunity(25, "opportunity.won", "O1", "won", "240000.00", "230000.50")
    s.opportunity(26, "opportunity.lost", "O2", "lost", "36000.00")
    s.event(30, "user.updated", {"id": "u-a", "team": None, "hourly_rate": "150.00", "active": True})
    s.activity(40, "A5", "L3", "u-a", 1)
    return s.events


def project(uow, events, batch=7):
    for start in range(0, len(events), batch):
        handlers.project_events(events[start:start + batch], uow)


EXPECTED_COST = {"budget": "10000.00", "expenses": "1213.00", "expense_entries": "1200.50",
                 "activity_costs": "12.50", "effort_hours": 8.5, "effort_cost": "800.00", "total": "2013.00",
                 "budget_used": 0.2013}


def test_a_whole_campaign_adds_up_to_the_cent_R1_C4_C5_C7(uow):
    project(uow, campaign_story())

    report = handlers.get_campaign_report("C1", uow)

    # effort: A 2h×120 + B 1.5h×80 + C 1h×50 (default) + B 3h×80 + A 1h×150 (after the raise) = 800.00
    assert report["cost"] == EXPECTED_COST
    assert report["leads"] == {"total": 2, "by_status": {"converted": 1, "raw": 1}, "by_source": {"trade_show": 2},
                               "assigned": 1, "unassigned": 1, "deleted": 1, "merged": 0}
    assert report["responses"] == {"accepted": 1, "not_accepted": 0, "not_reached": 0}
    assert report["opportunities"] == {"open": 0, "won": 1, "lost": 1, "pipeline": "0.00"}
    assert report["revenue"] == {"expected": "50000.00", "won": "230000.50", "won_vs_expected": 4.6}
    assert report["roi"] == 113.2576  # (230000.50 − 2013.00) / 2013.00
    assert (report["cost_per_lead"], report["cost_per_won"], report["conversion_rate"]) == ("1006.50", "2013.00", 0.5)
    assert report["name"] == "广交会 2026" and report["updated_at"] == at(40)


def test_a_parent_campaign_shows_its_children_and_their_roll_up(uow):
    project(uow, campaign_story())

    report = handlers.get_campaign_report("C1", uow)

    assert [(c["campaign_id"], c["leads"], c["cost_total"]) for c in report["children"]] == [("C2", 1, "500.00")]
    rollup = report["rollup"]
    assert (rollup["campaigns"], rollup["leads"]["total"], rollup["cost"]["budget"], rollup["cost"]["total"]) == \
        (2, 3, "11000.00", "2513.00")
    assert "children" not in handlers.get_campaign_report("C2", uow)


def test_every_event_twice_and_shuffled_gives_the_same_report_R2(make_uow):
    events = campaign_story()
    in_order = make_uow()
    project(in_order, events)
    expected = {c: handlers.get_campaign_report(c, in_order) for c in ("C1", "C2")}

    for seed in (1, 2, 3):
        shuffled = events * 2
        random.Random(seed).shuffle(shuffled)
        uow = make_uow()
        project(uow, shuffled, batch=5 + seed)
        assert {c: handlers.get_campaign_report(c, uow) for c in ("C1", "C2")} == expected, seed
        assert handlers.get_funnel_report(uow, "C1") == handlers.get_funnel_report(in_order, "C1")
        assert handlers.get_sales_report(uow, "C1") == handlers.get_sales_report(in_order, "C1")


def test_a_rebuild_replays_the_kept_events_into_the_same_report_R6(uow):
    events = campaign_story()
    random.Random(7).shuffle(events)
    project(uow, events)
    before = {c: handlers.get_campaign_report(c, uow) for c in ("C1", "C2")}

    result = handlers.rebuild(uow)

    assert result["replayed"] == len(events)
    assert {c: handlers.get_campaign_report(c, uow) for c in ("C1", "C2")} == before
    assert handlers.get_campaign_report("C1", uow)["cost"] == EXPECTED_COST
    assert handlers.projection_stats(uow) == {"events": len(events), "last_event_at": at(40)}


def test_a_rate_that_arrives_after_the_work_prices_it_C4(uow):
    work = Story()
    work.activity(10, "A1", "L1", "u-late", 2)
    project(uow, work.events)
    assert handlers.get_campaign_report("C1", uow)["cost"]["effort_cost"] == "0.00"  # no rate known yet

    rate = Story()
    rate.event(5, "user.created", {"id": "u-late", "hourly_rate": "99.99"})
    rate.events[0]["event_id"] = "rate"
    project(uow, rate.events)

    assert handlers.get_campaign_report("C1", uow)["cost"]["effort_cost"] == "199.98"


def test_the_sales_report_shows_each_person_R3(uow):
    project(uow, campaign_story())

    people = {p["user_id"]: p for p in handlers.get_sales_report(uow, "C1")["items"]}

    assert {k: people["u-b"][k] for k in ("leads_assigned", "leads_held", "responses", "won", "won_revenue",
                                          "effort_hours", "effort_cost")} == \
        {"leads_assigned": 1, "leads_held": 1, "responses": 1, "won": 1, "won_revenue": "230000.50",
         "effort_hours": 4.5, "effort_cost": "360.00"}
    assert (people["u-a"]["effort_hours"], people["u-a"]["effort_cost"]) == (3.0, "390.00")
    assert people["u-owner"]["leads_owned"] == 2
    assert people["u-admin"]["conversions"] == 1
    assert handlers.get_sales_report(uow, "C1")["pools"] == [{"pool_id": "P1", "leads": 2}]


def test_the_funnel_counts_each_stage_with_rates_and_median_days_R4(uow):
    project(uow, campaign_story())

    funnel = handlers.get_funnel_report(uow, "C1")

    assert [(s["stage"], s["count"], s["rate_from_previous"]) for s in funnel["stages"]] == \
        [("lead", 2, None), ("usable", 1, 0.5), ("opportunity", 1, 1.0), ("won", 1, 1.0)]
    minute = 1 / 1440
    assert funnel["median_days"] == {"lead_to_usable": round(4 * minute, 2),
                                     "usable_to_opportunity": round(15 * minute, 2),
                                     "opportunity_to_won": round(5 * minute, 2)}
    assert handlers.get_funnel_report(uow)["stages"][0]["count"] == 3  # overall: C2's lead too


def test_the_campaign_list_is_sortable_and_paged(uow):
    project(uow, campaign_story())

    by_cost = handlers.list_campaign_reports(uow, sort="-cost", limit=1)
    assert [c["campaign_id"] for c in by_cost["items"]] == ["C1"] and by_cost["next_cursor"] == "1"
    rest = handlers.list_campaign_reports(uow, sort="-cost", limit=1, cursor=by_cost["next_cursor"])
    assert [c["campaign_id"] for c in rest["items"]] == ["C2"] and rest["next_cursor"] is None
    assert [c["campaign_id"] for c in handlers.list_campaign_reports(uow, sort="roi")["items"]] == ["C2", "C1"]
    with pytest.raises(Invalid):
        handlers.list_campaign_reports(uow, sort="colour")
    with pytest.raises(Invalid):
        handlers.list_campaign_reports(uow, cursor="abc")


def test_the_csv_export_has_a_bom_and_keeps_chinese_R5(uow):
    project(uow, campaign_story())

    text = handlers.export_campaign_report("C1", uow)

    assert text.startswith("\ufeffmetric,value\r\n")
    assert "name,广交会 2026\r\n" in text and "cost.total,2013.00\r\n" in text


def test_an_unknown_or_destroyed_campaign_has_no_report(uow):
    with pytest.raises(NotFound):
        handlers.get_campaign_report("C404", uow)
    gone = Story()
    gone.event(1, "campaign.created", {"id": "C9", "name": "x", "updated_at": at(1)})
    gone.event(2, "campaign.deleted", {"id": "C9", "name": "x", "updated_at": at(2)})
    project(uow, list(reversed(gone.events)))
    with pytest.raises(NotFound):
        handlers.get_campaign_report("C9", uow)


def test_a_malformed_lead_event_fails_so_that_it_is_retried_and_parked(uow):
    broken = {"event_id": "bad", "type": "lead.created", "version": 1, "occurred_at": at(1), "data": {}}
    with pytest.raises(KeyError):
        handlers.project_events([broken], uow)
    assert handlers.projection_stats(uow)["events"] == 0


def test_the_rebuild_command_replays_a_database_file_R6(uow, tmp_path):
    from reporting import rebuild

    project(uow, campaign_story())
    before = handlers.get_campaign_report("C1", uow)
    path = next(tmp_path.glob("db*/service.db"))

    assert rebuild.rebuild(f"sqlite:///{path}")["replayed"] == len(campaign_story())
    assert handlers.get_campaign_report("C1", uow) == before
