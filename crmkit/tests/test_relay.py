"""The outbox relay with a fake publisher (STYLE idiom 4: a crash re-sends, never loses)."""
import json
from datetime import timedelta

from sqlalchemy import update

from crmkit import envelope
from crmkit.context import RequestContext
from crmkit.db import writer
from crmkit.relay import OutboxRelay

CTX = RequestContext(user_id="u1")


class FakePublisher:
    """Records what it publishes; can be told to fail from the n-th message on."""

    def __init__(self, fail_from=None):
        self.sent = []
        self.fail_from = fail_from
        self.calls = 0

    def publish(self, body, *, exchange, routing_key, message_id=None, headers=None, expiration=None):
        self.publish_many([dict(body=body, exchange=exchange, routing_key=routing_key,
                                message_id=message_id)])

    def publish_many(self, messages):
        """Like the real one: all confirmed, or an exception (and none counts as sent)."""
        batch = []
        for m in messages:
            self.calls += 1
            if self.fail_from is not None and self.calls >= self.fail_from:
                raise ConnectionError("broker went away")
            batch.append({k: m.get(k) for k in ("body", "exchange", "routing_key", "message_id")})
        self.sent.extend(batch)


def _relay(store, publisher, **options):
    return OutboxRelay(store.engine, writer(store.engine), store.outbox, publisher, "lead.events", **options)


def _commit_events(store, *types):
    uow = store.uow(exchange="lead.events")
    with uow:
        events = [uow.emit(t, {"id": f"L{n}", "campaign_id": "C1"}, CTX) for n, t in enumerate(types)]
        uow.commit()
    return events


def _unsent(store):
    return [r["event_id"] for r in store.rows(store.outbox) if r["sent_at"] is None]


def _age_rows(store, seconds):
    with writer(store.engine).begin() as conn:
        conn.execute(update(store.outbox).values(
            created_at=envelope.now() - timedelta(seconds=seconds)))


def test_published_events_go_to_their_exchange_by_type_with_their_id_and_are_marked_sent_P2(store):
    events = _commit_events(store, "lead.created", "lead.assigned")
    publisher = FakePublisher()

    sent = _relay(store, publisher).publish_events(events)

    assert sent == 2
    assert _unsent(store) == []
    assert [m["routing_key"] for m in publisher.sent] == ["lead.created", "lead.assigned"]
    assert {m["exchange"] for m in publisher.sent} == {"lead.events"}
    assert [m["message_id"] for m in publisher.sent] == [e["event_id"] for e in events]
    assert [json.loads(m["body"]) for m in publisher.sent] == events


def test_a_batch_the_broker_does_not_fully_confirm_stays_unsent_for_the_sweep(store):
    events = _commit_events(store, "lead.created", "lead.assigned", "lead.updated")
    publisher = FakePublisher(fail_from=2)

    sent = _relay(store, publisher).publish_events(events)

    assert sent == 0  # confirmed as a batch: none is marked sent, all are sent again later
    assert _unsent(store) == [e["event_id"] for e in events]


def test_the_sweep_leaves_fresh_rows_to_the_fast_path(store):
    _commit_events(store, "lead.created")
    publisher = FakePublisher()

    assert _relay(store, publisher, stale_after=60).sweep() == 0
    assert publisher.sent == []


def test_the_sweep_resends_rows_left_unsent_longer_than_stale_after(store):
    events = _commit_events(store, "lead.created", "lead.assigned")
    _age_rows(store, 120)
    publisher = FakePublisher()

    assert _relay(store, publisher, stale_after=60).sweep() == 2

    assert [m["message_id"] for m in publisher.sent] == [e["event_id"] for e in events]
    assert _unsent(store) == []


def test_a_row_the_sweep_sent_is_not_sent_again(store):
    _commit_events(store, "lead.created")
    publisher = FakePublisher()
    relay = _relay(store, publisher, stale_after=0)

    assert relay.sweep() == 1
    assert relay.sweep() == 0
    assert len(publisher.sent) == 1


def test_a_claimed_row_waits_for_its_lease_before_another_sweep_takes_it(store):
    [event] = _commit_events(store, "lead.created")
    _age_rows(store, 120)
    broken = FakePublisher(fail_from=1)
    relay = _relay(store, broken, stale_after=60, lease=30)

    assert relay.sweep() == 1  # claimed, but the broker refused it
    assert relay.sweep() == 0  # still under the first claim's lease
    assert _unsent(store) == [event["event_id"]]

    with writer(store.engine).begin() as conn:  # the lease runs out
        conn.execute(update(store.outbox).values(claimed_until=envelope.now() - timedelta(seconds=1)))
    healthy = FakePublisher()
    relay.publisher = healthy

    assert relay.sweep() == 1
    assert [m["message_id"] for m in healthy.sent] == [event["event_id"]]
    assert _unsent(store) == []
    assert store.rows(store.outbox)[0]["attempts"] == 2


def test_two_relays_sweeping_together_send_a_row_once(store):
    _commit_events(store, "lead.created")
    _age_rows(store, 120)
    failing, other = FakePublisher(fail_from=1), FakePublisher()

    _relay(store, failing, stale_after=60).sweep()
    _relay(store, other, stale_after=60).sweep()

    assert other.sent == []  # the first replica's claim holds


def test_nothing_is_lost_when_the_fast_path_fails_the_sweep_sends_it_later(store):
    events = _commit_events(store, "lead.created", "lead.assigned")
    relay = _relay(store, FakePublisher(fail_from=1), stale_after=0)
    assert relay.publish_events(events) == 0

    relay.publisher = FakePublisher()
    relay.sweep()

    assert [m["message_id"] for m in relay.publisher.sent] == [e["event_id"] for e in events]
    assert _unsent(store) == []
