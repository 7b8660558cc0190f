"""Reporting projections against the fake unit of work (R1, R2): each lead counts once, whatever the
order or the number of deliveries of its events."""
import pytest

from crmkit import envelope
from crmkit.errors import NotFound
from reporting import handlers


def lead_event(event_type, lead_id="L1", campaign_id="C1", **data):
    return envelope.new_event(event_type, {"id": lead_id, "campaign_id": campaign_id, "status": "raw",
                                           "source": "trade_show", "assignees": [], **data}, actor_id="u1")


def assigned(lead_id="L1", campaign_id="C1", users=("s1",)):
    return lead_event("lead.assigned", lead_id, campaign_id,
                      assignees=[{"user_id": u, "permissions": {}} for u in users])


def report(uow, campaign_id="C1"):
    return handlers.get_campaign_report(campaign_id, uow)


def test_a_new_lead_counts_in_its_campaign_by_status_and_source_R1_R2(uow):
    handlers.on_lead_event(lead_event("lead.created"), uow)
    handlers.on_lead_event(lead_event("lead.created", "L2", source="web_form"), uow)

    leads = report(uow)["leads"]

    assert leads["total"] == 2
    assert leads["by_status"] == {"raw": 2}
    assert leads["by_source"] == {"trade_show": 1, "web_form": 1}
    assert leads["assigned"] == 0


def test_a_lead_counts_once_when_its_event_is_delivered_twice_R1(uow):
    event = lead_event("lead.created")

    assert handlers.on_lead_event(event, uow) is True
    assert handlers.on_lead_event(event, uow) is False

    assert report(uow)["leads"]["total"] == 1


def test_a_lead_counts_once_when_lead_assigned_arrives_before_lead_created_R1(uow):
    handlers.on_lead_event(assigned(), uow)
    handlers.on_lead_event(lead_event("lead.created"), uow)

    leads = report(uow)["leads"]
    assert (leads["total"], leads["assigned"]) == (1, 1)
    assert leads["by_status"] == {"raw": 1}


def test_a_lead_counts_once_as_assigned_however_often_it_is_reassigned_R1(uow):
    handlers.on_lead_event(lead_event("lead.created"), uow)
    handlers.on_lead_event(assigned(users=("s1",)), uow)
    handlers.on_lead_event(assigned(users=("s1", "s2")), uow)
    handlers.on_lead_event(assigned("L2"), uow)

    leads = report(uow)["leads"]
    assert (leads["total"], leads["assigned"]) == (2, 2)


def test_leads_of_other_campaigns_and_of_no_campaign_do_not_count_here(uow):
    handlers.on_lead_event(lead_event("lead.created"), uow)
    handlers.on_lead_event(lead_event("lead.created", "L2", campaign_id="C2"), uow)
    no_campaign = lead_event("lead.created", "L3", campaign_id=None)

    assert handlers.on_lead_event(no_campaign, uow) is True  # handled (and remembered), just not counted

    assert report(uow)["leads"]["total"] == 1
    assert report(uow, "C2")["leads"]["total"] == 1
    assert handlers.on_lead_event(no_campaign, uow) is False  # remembered in the inbox


@pytest.mark.parametrize("event_type", ["activity.logged", "opportunity.created", "opportunity.won"])
def test_activity_and_opportunity_events_are_not_counted_as_new_leads_R1(uow, event_type):
    handlers.on_lead_event(lead_event("lead.created"), uow)
    # API.md: activity and opportunity events carry lead_id and campaign_id; data.id is their own id
    other = envelope.new_event(event_type, {"id": "A1", "lead_id": "L1", "campaign_id": "C1",
                                            "effort_hours": 2, "amount": "100.00"})

    handlers.on_lead_event(other, uow)

    assert report(uow)["leads"]["total"] == 1


def test_a_source_that_is_not_given_counts_as_unknown(uow):
    handlers.on_lead_event(lead_event("lead.created", source=None, status=None), uow)

    leads = report(uow)["leads"]
    assert leads["by_source"] == {"unknown": 1}
    assert leads["by_status"] == {"raw": 1}


def test_a_campaign_event_brings_budget_and_expected_revenue_into_the_report_C5(uow):
    event = envelope.new_event("campaign.created", {"id": "C1", "name": "Canton Fair", "budget": "10000.00",
                                                    "expected_revenue": "50000.00"})

    assert handlers.on_campaign_event(event, uow) is True
    assert handlers.on_campaign_event(event, uow) is False

    result = report(uow)
    assert result["cost"]["budget"] == "10000.00"
    assert result["revenue"]["expected"] == "50000.00"
    assert result["updated_at"].endswith("Z")


def test_a_campaign_update_replaces_the_budget(uow):
    handlers.on_campaign_event(envelope.new_event("campaign.created", {"id": "C1", "budget": "100.00"}), uow)
    handlers.on_campaign_event(envelope.new_event("campaign.updated", {"id": "C1", "budget": "250.00"}), uow)

    assert report(uow)["cost"]["budget"] == "250.00"


def test_a_campaign_without_any_event_has_no_report(uow):
    with pytest.raises(NotFound):
        report(uow, "C404")


def test_expenses_recorded_and_removed_count_in_the_campaign_cost_C3_R1(uow):
    from crmkit import envelope as env

    handlers.on_campaign_event(env.new_event("campaign.created", {"id": "C9", "budget": "1000.00"}), uow)
    recorded = env.new_event("campaign.expense_recorded", {"id": "E1", "campaign_id": "C9", "amount": "250.10"})
    other = env.new_event("campaign.expense_recorded", {"id": "E2", "campaign_id": "C9", "amount": "49.90"})
    removed = env.new_event("campaign.expense_removed", {"id": "E2", "campaign_id": "C9", "amount": "49.90"})
    for event in (recorded, recorded, other, removed):
        handlers.on_campaign_event(event, uow)

    cost = handlers.get_campaign_report("C9", uow)["cost"]
    assert (cost["expenses"], cost["total"], cost["budget"]) == ("250.10", "250.10", "1000.00")
