"""BatchEventConsumer decodes a message only when its batch has a worker (P1: an import of
100,000 rows arrives as hundreds of packed messages of 500 events; decoded as they were
delivered, they waited for a worker as millions of objects that every full garbage collection
walked). Parking and acking stay as they were."""
import json

import eventlet
from eventlet.semaphore import Semaphore

from crmkit.consumer import BatchEventConsumer


class Message:
    """A delivery whose body records when it is read."""

    def __init__(self, tag, body, routing_key="lead.created.batch"):
        self.delivery_tag = tag
        self.headers = {}
        self.delivery_info = {"routing_key": routing_key}
        self.properties = {}
        self._body = body
        self.read = False

    @property
    def body(self):
        self.read = True
        return self._body


def packed(*types):
    inner = [{"event_id": f"e{n}", "type": kind, "version": 1, "occurred_at": "2026-12-04T00:00:00Z",
              "data": {"id": f"L{n}"}} for n, kind in enumerate(types)]
    return json.dumps({"event_id": "p", "type": f"{types[0]}.batch", "version": 1,
                       "occurred_at": "2026-12-04T00:00:00Z",
                       "data": {"count": len(inner), "events": inner}}).encode()


class Container:
    def __init__(self):
        self.workers = []  # (events, handle_result)

    def spawn_managed_thread(self, fn, identifier=None):
        return eventlet.spawn(fn)

    def spawn_worker(self, provider, args, kwargs, context_data=None, handle_result=None):
        self.workers.append((args[0], handle_result))


class QueueConsumer:
    def __init__(self):
        self.acked = []

    def ack_message(self, message):
        self.ack_messages([message])

    def ack_messages(self, messages):
        self.acked += [m.delivery_tag for m in messages]


def consumer(max_concurrency):
    provider = BatchEventConsumer("assignment.on_lead_created", max_batch=10, max_concurrency=max_concurrency)
    provider.container = Container()
    provider.queue_consumer = QueueConsumer()
    provider._pending, provider._pending_events, provider._timer = [], 0, None
    provider._slots = Semaphore(max_concurrency)
    provider.parked = []
    provider._park = lambda message, error, attempt=None: provider.parked.append((message.delivery_tag, error))
    provider.failed = []
    provider._failed = lambda message, exc_info: provider.failed.append((message.delivery_tag, exc_info[1]))
    return provider


def test_a_message_waiting_for_a_worker_is_not_decoded_yet():
    provider = consumer(max_concurrency=1)
    messages = [Message(n, packed("lead.created", "lead.created")) for n in (1, 2, 3)]
    for message in messages:
        provider.handle_message(None, message)  # a packed message is a full batch: each flushes
    eventlet.sleep(0)
    assert [m.read for m in messages] == [True, False, False]
    (events, done), = provider.container.workers
    assert [e["event_id"] for e in events] == ["e0", "e1"]

    done(None, result=None)  # the worker is finished: its message is acked, the next one is read
    eventlet.sleep(0)
    assert provider.queue_consumer.acked == [1]
    assert [m.read for m in messages] == [True, True, False]
    assert len(provider.container.workers) == 2


def test_single_events_are_gathered_into_one_batch_and_read_when_it_runs():
    provider = consumer(max_concurrency=2)
    messages = [Message(n, json.dumps({"event_id": f"s{n}", "type": "lead.created", "version": 1,
                                       "occurred_at": "2026-12-04T00:00:00Z", "data": {"id": f"L{n}"}}),
                        routing_key="lead.created") for n in range(10)]
    for message in messages[:9]:
        provider.handle_message(None, message)
    eventlet.sleep(0)
    assert not any(m.read for m in messages) and not provider.container.workers
    provider.handle_message(None, messages[9])  # the tenth fills the batch
    eventlet.sleep(0)
    (events, _), = provider.container.workers
    assert [e["event_id"] for e in events] == [f"s{n}" for n in range(10)]


def test_a_malformed_message_is_parked_and_one_with_nothing_wanted_is_acked_freeing_the_slot():
    provider = consumer(max_concurrency=1)
    bad = Message(1, b"\xff not json")
    unwanted = Message(2, packed("lead.updated", "lead.updated"), routing_key="lead.updated.batch")
    good = Message(3, packed("lead.created", "lead.created"))
    for message in (bad, unwanted, good):
        provider.handle_message(None, message)
    eventlet.sleep(0)
    assert [tag for tag, _ in provider.parked] == [1] and "MalformedEvent" in provider.parked[0][1]
    assert provider.queue_consumer.acked == [2]
    (events, _), = provider.container.workers  # the slot came back: the good one runs
    assert [e["event_id"] for e in events] == ["e0", "e1"]


class Unreadable(Message):
    @property
    def body(self):
        raise RuntimeError("the body went missing")


def test_a_message_that_fails_to_decode_unforeseen_takes_the_retry_path_and_frees_the_slot():
    provider = consumer(max_concurrency=1)
    broken, good = Unreadable(1, b""), Message(2, packed("lead.created", "lead.created"))
    provider.handle_message(None, broken)
    provider.handle_message(None, good)
    eventlet.sleep(0)
    assert [(tag, str(exc)) for tag, exc in provider.failed] == [(1, "the body went missing")]
    (events, _), = provider.container.workers  # the slot came back: the good one runs
    assert [e["event_id"] for e in events] == ["e0", "e1"]
