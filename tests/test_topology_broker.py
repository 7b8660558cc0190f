"""crmkit.topology.declare_all against the real RabbitMQ (our own vhost): it removes the bindings
an earlier release made and this one no longer wants (topology.RETIRED_BINDINGS)."""
from kombu import Connection, Exchange, Producer, Queue

from crmkit import topology
from tests.support import reset_broker, wait_for


def test_declaring_the_topology_unbinds_the_projection_queue_from_lead_created_of_an_older_release(broker_vhost):
    reset_broker(broker_vhost)
    events = Exchange("lead.events", type="topic", durable=True)
    with Connection(broker_vhost) as conn:
        channel = conn.channel()
        events(channel).declare()
        # the queue as the earlier release declared it: bound to everything of lead.events
        Queue("assignment.on_lead_event", exchange=events, routing_key="lead.#", durable=True)(channel).declare()
        channel.close()

    topology.declare_all(broker_vhost)
    topology.declare_all(broker_vhost)  # again: unbinding what is gone already is harmless

    with Connection(broker_vhost) as conn:
        producer = Producer(conn.channel(), exchange=events)
        for key in ("lead.created", "lead.created.batch", "lead.assigned", "lead.assigned.batch"):
            producer.publish({"key": key}, routing_key=key)
    wanted = {"assignment.on_lead_event": 2, "assignment.on_lead_created": 2, "reporting.on_lead_event": 4}

    def depths():
        found = topology.queue_depths(broker_vhost, wanted)
        return {name: (found[name] or {}).get("messages") for name in wanted}
    wait_for(lambda: depths() == wanted, 10, message=f"queue depths {wanted}")
    reset_broker(broker_vhost)
