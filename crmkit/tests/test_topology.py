"""The broker's shape, checked without a broker (P2; "Habits we do not copy": retry, then park)."""
import pytest

from crmkit import topology


def test_every_subscription_listens_on_a_declared_event_exchange_P2():
    for sub in topology.SUBSCRIPTIONS.values():
        assert sub.exchange in topology.EXCHANGES
        assert sub.service in ("campaign", "lead", "assignment", "reporting")


def test_the_assignment_service_hears_new_leads_and_reporting_hears_activities_and_opportunities():
    assert topology.SUBSCRIPTIONS["assignment.on_lead_created"].routing_keys == ("lead.created",)
    keys = topology.SUBSCRIPTIONS["reporting.on_lead_event"].routing_keys
    assert {"lead.#", "activity.#", "opportunity.#"} <= set(keys)


@pytest.mark.parametrize("name", sorted(topology.SUBSCRIPTIONS))
def test_a_retried_message_expires_back_into_its_own_queue(name):
    sub = topology.SUBSCRIPTIONS[name]

    retry = topology.retry_queue(sub)

    assert retry.name == f"{name}.retry"
    assert retry.queue_arguments["x-dead-letter-exchange"] == ""
    assert retry.queue_arguments["x-dead-letter-routing-key"] == topology.main_queue(sub).name


def test_queues_are_durable_and_bound_to_every_routing_key():
    sub = topology.SUBSCRIPTIONS["reporting.on_lead_event"]

    queue = topology.main_queue(sub)

    assert queue.durable and not queue.auto_delete
    assert sorted(b.routing_key for b in queue.bindings) == sorted(sub.bindings) == sorted(sub.routing_keys)
    assert {b.exchange.name for b in queue.bindings} == {"lead.events"}
    assert topology.parked_queue(sub).name == "reporting.on_lead_event.parked"


def test_quorum_queues_are_asked_for_only_when_configured():
    sub = topology.SUBSCRIPTIONS["assignment.on_lead_created"]

    assert topology.main_queue(sub).queue_arguments in (None, {})
    assert topology.main_queue(sub, "quorum").queue_arguments == {"x-queue-type": "quorum"}
    assert topology.retry_queue(sub, "quorum").queue_arguments["x-queue-type"] == "quorum"


def test_subscriptions_of_a_service_are_its_own():
    assert {s.name for s in topology.subscriptions_of("reporting")} == {
        "reporting.on_campaign_event", "reporting.on_lead_event", "reporting.on_gateway_event"}
    assert topology.subscriptions_of("campaign") == []


def test_a_queue_bound_to_an_exact_event_type_is_also_bound_to_its_packed_form():
    created = topology.main_queue(topology.SUBSCRIPTIONS["assignment.on_lead_created"])
    everything = topology.main_queue(topology.SUBSCRIPTIONS["reporting.on_lead_event"])

    assert sorted(b.routing_key for b in created.bindings) == ["lead.created", "lead.created.batch"]
    assert sorted(b.routing_key for b in everything.bindings) == [  # lead.# matches lead.*.batch already
        "activity.#", "lead.#", "opportunity.#"]


def test_the_assignment_projection_hears_every_change_of_a_lead_but_not_its_creation():
    """lead.created feeds the projection through on_lead_created, which reads it anyway."""
    queue = topology.main_queue(topology.SUBSCRIPTIONS["assignment.on_lead_event"])
    keys = {b.routing_key for b in queue.bindings}

    assert not any(topology.envelope.topic_matches(key, event) for key in keys
                   for event in ("lead.created", "lead.created.batch"))
    for event in ("lead.updated", "lead.assigned", "lead.deleted", "lead.merged", "lead.assigned.batch"):
        assert any(topology.envelope.topic_matches(key, event) for key in keys), event
    assert topology.RETIRED_BINDINGS["assignment.on_lead_event"] == ("lead.#",)
