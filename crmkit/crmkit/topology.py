"""The broker's shape: event exchanges and every internal subscription queue.

Nameko's publishers are not `mandatory`: an event published before its consumer's
queue exists is dropped without a word. So every service (and `make run`) declares
this whole topology before its outbox relay publishes anything.

Each subscription has three queues: `<q>` (consumed), `<q>.retry` (a waiting room
whose messages expire back into `<q>`), `<q>.parked` (dead letters for an operator).
"""
from dataclasses import dataclass

from kombu import Connection, Exchange, Queue, binding

from . import envelope

EXCHANGES = ("campaign.events", "lead.events", "assignment.events", "reporting.events", "gateway.events")


@dataclass(frozen=True)
class Subscription:
    name: str           # "<service>.<handler>", e.g. "assignment.on_lead_created"
    exchange: str
    routing_keys: tuple

    @property
    def service(self):
        return self.name.split(".", 1)[0]

    @property
    def queue(self):
        return self.name

    @property
    def bindings(self) -> tuple:
        """The routing keys, and `<key>.batch` for packed events (envelope.pack) where the keys do
        not match those already (`lead.created` → also `lead.created.batch`; `lead.#` matches)."""
        extra = []
        for key in self.routing_keys:
            packed = f"{key}.{envelope.BATCH}"
            if not any(envelope.topic_matches(k, packed) for k in self.routing_keys):
                extra.append(packed)
        return self.routing_keys + tuple(extra)

    @property
    def retry_queue(self):
        return f"{self.name}.retry"

    @property
    def parked_queue(self):
        return f"{self.name}.parked"


# The assignment service's copy of each lead changes with these; lead.created writes it too, but in
# on_lead_created, which decodes that event anyway (an import's 100,000 lead.created were decoded,
# inbox-recorded and written twice in the assignment service when this queue was bound to lead.#).
LEAD_STATE_CHANGES = ("lead.updated", "lead.assigned", "lead.recalled", "lead.status_changed", "lead.converted",
                      "lead.response_recorded", "lead.quality_assessed", "lead.deleted", "lead.merged")

SUBSCRIPTIONS = {s.name: s for s in (
    Subscription("assignment.on_lead_created", "lead.events", ("lead.created",)),
    Subscription("assignment.on_lead_event", "lead.events", LEAD_STATE_CHANGES),
    Subscription("assignment.on_user_event", "gateway.events", ("user.#",)),
    Subscription("lead.on_campaign_event", "campaign.events", ("campaign.#",)),
    Subscription("lead.on_user_event", "gateway.events", ("user.#",)),
    Subscription("reporting.on_campaign_event", "campaign.events", ("campaign.#",)),
    Subscription("reporting.on_lead_event", "lead.events", ("lead.#", "activity.#", "opportunity.#")),
    Subscription("reporting.on_gateway_event", "gateway.events", ("user.#", "settings.#")),
)}


# Bindings an earlier release made and this one no longer wants: declare_all removes them (a binding
# is never removed by declaring the queue again). Unbinding one that is not there is a no-op.
RETIRED_BINDINGS = {"assignment.on_lead_event": ("lead.#",)}


def subscriptions_of(service: str):
    return [s for s in SUBSCRIPTIONS.values() if s.service == service]


def exchange(name: str) -> Exchange:
    return Exchange(name, type="topic", durable=True)


def main_queue(sub: Subscription, queue_type: str = "classic") -> Queue:
    arguments = {"x-queue-type": "quorum"} if queue_type == "quorum" else None
    return Queue(sub.queue, bindings=[binding(exchange(sub.exchange), routing_key=key)
                                      for key in sub.bindings],
                 durable=True, auto_delete=False, queue_arguments=arguments)


def retry_queue(sub: Subscription, queue_type: str = "classic") -> Queue:
    arguments = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": sub.queue}
    if queue_type == "quorum":
        arguments["x-queue-type"] = "quorum"
    return Queue(sub.retry_queue, durable=True, auto_delete=False, queue_arguments=arguments)


def parked_queue(sub: Subscription, queue_type: str = "classic") -> Queue:
    arguments = {"x-queue-type": "quorum"} if queue_type == "quorum" else None
    return Queue(sub.parked_queue, durable=True, auto_delete=False, queue_arguments=arguments)


def declare_all(amqp_uri: str, queue_type: str = "classic"):
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        try:
            for name in EXCHANGES:
                exchange(name)(channel).declare()
            for sub in SUBSCRIPTIONS.values():
                for make in (main_queue, retry_queue, parked_queue):
                    make(sub, queue_type)(channel).declare()
                for key in RETIRED_BINDINGS.get(sub.name, ()):
                    main_queue(sub, queue_type)(channel).unbind_from(exchange(sub.exchange), routing_key=key)
        finally:
            channel.close()


def queue_depths(amqp_uri: str, names) -> dict:
    """Message and consumer counts by passive declare (no management plugin needed)."""
    depths = {}
    with Connection(amqp_uri) as conn:
        for name in names:
            channel = conn.channel()
            try:
                _, messages, consumers = channel.queue_declare(queue=name, passive=True)
                depths[name] = {"messages": messages, "consumers": consumers}
            except Exception:  # noqa: BLE001 - a missing queue is reported, not raised
                depths[name] = None
            finally:
                try:
                    channel.close()
                except Exception:  # noqa: BLE001
                    pass
    return depths


if __name__ == "__main__":  # `python -m crmkit.topology` declares everything
    import os
    declare_all(os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/"),
                os.environ.get("CRM_QUEUE_TYPE", "classic"))
    print("declared", ", ".join(EXCHANGES), "and", len(SUBSCRIPTIONS), "subscriptions")
