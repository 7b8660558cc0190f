"""A Nameko entrypoint for events that never acks and drops.

Nameko's `event_handler` acks (drops) an event whose handler raised, or with
`requeue_on_error=True` loops a poison message forever. This one:
- decodes the envelope and runs the handler with the event's actor, correlation id
  and causation id as context data (so RPCs it makes carry them on);
- on success, or when the inbox says the event was already handled, acks;
- on failure, republishes to `<queue>.retry` with a growing TTL (it expires back into
  the queue), and after the last attempt to `<queue>.parked` with the error, and only
  then acks. If even that publish fails, the message is requeued, never dropped.
"""
import logging
import sys
import traceback
from functools import partial

from nameko.containers import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer

from . import envelope, topology
from .acks import AckWindow
from .db import AlreadyProcessed
from .publish import ConfirmingPublisher

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-crm-attempt"


class ParkingQueueConsumer(QueueConsumer):
    """Nameko's QueueConsumer, except that
    - a body kombu cannot decode is parked (kombu's ConsumerMixin.on_decode_error logs and
      *acks* such a message: a silent drop);
    - the prefetch is large enough for batch consumers;
    - acks go through an AckWindow: one multiple-ack for a run of handled deliveries, never
      past one still being handled; one held behind a slow delivery is acked on its own
      after HOLD seconds.
    """
    HOLD = 0.2

    def __init__(self):
        super().__init__()
        self._window = None
        self._flusher = None

    def _window_of(self, channel):
        """The channel's window; a new one when the channel is new (after a reconnect)."""
        if self._window is None or self._window.channel is not channel:
            self._window = AckWindow(channel)
        return self._window

    def _live_window(self, channel):
        """The current window if it is this channel's and the connection is up, else None."""
        window = self._window
        if window is not None and window.channel is channel and channel.connection:
            return window
        return None

    def handle_message(self, provider, body, message):
        self._window_of(message.channel).delivered(message.delivery_tag)
        if getattr(provider, "handles_inline", False):  # quick and never waits: no thread per message
            provider.handle_message(body, message)
        else:
            super().handle_message(provider, body, message)

    def ack_message(self, message):
        self.ack_messages([message])

    def ack_messages(self, messages):
        """Acknowledge handled messages: one frame for the run they complete (AckWindow)."""
        mine = []
        for message in messages:
            if not message.channel.connection:  # the broker has taken it back already
                continue
            if self._live_window(message.channel) is None:  # from an earlier channel
                super().ack_message(message)
            else:
                mine.append(message)
        if not mine:
            return
        window = self._window
        try:
            window.ack(*(message.delivery_tag for message in mine))
        except ConnectionError:  # pragma: no cover - closing: the broker redelivers
            return
        for message in mine:
            message._state = "ACK"
        if window.held and self._flusher is None:
            self._flusher = self.container.spawn_managed_thread(self._flush_held, identifier="ack-flusher")

    def requeue_message(self, message):
        super().requeue_message(message)
        window = self._live_window(message.channel)
        if window is not None:
            window.settled(message.delivery_tag)

    def _flush_held(self):
        import eventlet

        try:
            eventlet.sleep(self.HOLD)
            self._ack_held_now()
        finally:
            self._flusher = None

    def _ack_held_now(self):
        window = self._window
        if window is not None and self._live_window(window.channel) is not None:
            try:
                window.flush_held()
            except ConnectionError:  # pragma: no cover - closing: the broker redelivers
                pass

    def stop(self):
        self._ack_held_now()
        super().stop()

    @property
    def prefetch_count(self):
        batch = max((getattr(p, "max_batch", 1) for p in self._providers), default=1)
        return max(self.container.max_workers, 2 * batch)

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            if getattr(provider, "decodes_later", False):  # kombu hands over the message undecoded
                consumer.on_message = partial(self.handle_message, provider, None)
            elif hasattr(provider, "handle_undecodable"):
                consumer.on_decode_error = partial(self._undecodable, provider)
        return consumers

    def _undecodable(self, provider, message, exc):
        self._window_of(message.channel).delivered(message.delivery_tag)
        self.container.spawn_managed_thread(partial(provider.handle_undecodable, message, exc),
                                            identifier="park-undecodable")


class ReliableEventConsumer(Consumer):
    queue_consumer = ParkingQueueConsumer()

    def __init__(self, subscription_name, **kwargs):
        self.subscription = topology.SUBSCRIPTIONS[subscription_name]
        super().__init__(queue=None, requeue_on_error=False, **kwargs)

    def setup(self):
        settings = self.container.config["CRM_SETTINGS"]
        self.queue = topology.main_queue(self.subscription, settings.queue_type)
        self.max_attempts = settings.retry_attempts
        self.base_delay = settings.retry_base_delay
        self.publisher = ConfirmingPublisher(settings.amqp_uri)
        super().setup()

    def stop(self):
        super().stop()
        self.publisher.close()

    def _events_or_park(self, body, message, park=None):
        """The envelope as a list, or a packed envelope's inner events this subscription wants
        (envelope.unpack; maybe none); None once a message that is not an event has been parked
        (by `park`, default self._park)."""
        try:
            return envelope.unpack(envelope.parse(message.body if body is None else body),
                                   self.subscription.routing_keys)
        except envelope.MalformedEvent as exc:
            (park or self._park)(message, f"MalformedEvent: {exc}")
            return None

    def handle_message(self, body, message):
        events = self._events_or_park(body, message)
        if events is None:
            return
        if not events:  # a packed message with nothing for this subscription
            self.queue_consumer.ack_message(message)
            return
        self._run_each(events, message)

    @staticmethod
    def _context(event):
        context_data = {
            "user_id": event.get("actor_id"),
            "correlation_id": event.get("correlation_id") or event["event_id"],
            "causation_id": event["event_id"],
            "channel": "event",
        }
        return {k: v for k, v in context_data.items() if v}

    def _run_each(self, events, message):
        """One worker per event, one after another (a packed message holds several); the message
        is acked after the last, or retried whole after a failure (the inbox skips those done)."""
        event, rest = events[0], events[1:]

        def handle_result(worker_ctx, result=None, exc_info=None):
            if exc_info is not None and not isinstance(exc_info[1], AlreadyProcessed):
                self._failed(message, exc_info)
                return result, exc_info
            if rest:  # from a thread of its own: this worker still holds its slot in the pool
                self.container.spawn_managed_thread(partial(self._run_each, rest, message),
                                                    identifier="packed-events")
            else:
                self.queue_consumer.ack_message(message)
            return result, None

        try:
            self.container.spawn_worker(self, (event,), {}, context_data=self._context(event),
                                        handle_result=handle_result)
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_undecodable(self, message, exc):
        self._park(message, f"MalformedEvent: the body cannot be decoded: {exc}")

    def _failed(self, message, exc_info):
        """Retry later with a growing delay, or park after the last attempt; then ack."""
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0)) + 1
        error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        if attempt >= self.max_attempts:
            self._park(message, error, attempt)
        else:
            delay = min(self.base_delay * 2 ** (attempt - 1), 300.0)
            log.warning("%s failed (attempt %d/%d), retrying in %.1fs: %s", self.subscription.name,
                        attempt, self.max_attempts, delay, error)
            self._forward(message, self.subscription.retry_queue,
                          {ATTEMPT_HEADER: attempt, "x-crm-last-error": error[:1000]}, expiration=delay)

    def _park(self, message, error, attempt=None):
        log.error("%s parked a message after %s attempt(s): %s", self.subscription.name,
                  attempt or 1, error)
        headers = {"x-crm-error": error[:4000], "x-crm-attempts": attempt or 1,
                   "x-crm-routing-key": message.delivery_info.get("routing_key"),
                   "x-crm-parked-at": envelope.iso(envelope.now())}
        self._forward(message, self.subscription.parked_queue, headers)

    def _forward(self, message, queue_name, headers, expiration=None):
        merged = dict(message.headers or {})
        merged.update(headers)
        try:
            self.publisher.publish(message.body, exchange="", routing_key=queue_name,
                                   message_id=message.properties.get("message_id"),
                                   headers=merged, expiration=expiration)
        except Exception:  # noqa: BLE001 - never drop: give it back to the queue
            log.exception("could not move a failed message to %s; requeueing it", queue_name)
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


class BatchEventConsumer(ReliableEventConsumer):
    """Like ReliableEventConsumer, but the handler gets a list of events: up to `max_batch`
    (or the events of one packed message, however many) gathered for at most `max_wait`
    seconds, handled by one worker in one transaction.

    A message is decoded only when its batch has a worker: the prefetch (2 x max_batch
    messages) can hold hundreds of packed messages of 500 events each, and decoded at once they
    filled the heap with millions of objects that waited for a worker, while each full garbage
    collection walked them all (a third of the assignment service's CPU in a 100,000-row import).

    If a batch fails, each of its messages takes the retry path on its own; a retried
    message is then handled alone, so a poison event is found and parked without
    dragging the others into the parked queue with it.

    `max_concurrency` bounds the batches handled at once (a handler that ends in one bulk call
    to another service gains nothing from more: they only queue there, and time out); without
    it, as many as the container has workers.
    """

    def __init__(self, subscription_name, max_batch=100, max_wait=0.1, max_concurrency=None, **kwargs):
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_concurrency = max_concurrency  # batches handled at once (None: as workers allow)
        super().__init__(subscription_name, **kwargs)

    def setup(self):
        from eventlet.semaphore import Semaphore

        super().setup()
        self._pending = []
        self._pending_events = 0
        self._timer = None
        self._slots = Semaphore(self.max_concurrency or self.container.max_workers)

    # Called in the consumer's own thread for each delivery (ParkingQueueConsumer), with the
    # message undecoded: it only gathers; decoding, and whatever may wait (a worker slot, a confirm
    # when parking), runs in a thread of its own.
    handles_inline = True
    decodes_later = True

    def _in_thread(self, fn, *args):
        self.container.spawn_managed_thread(partial(fn, *args), identifier="event-batch")

    def handle_message(self, body, message):
        if int((message.headers or {}).get(ATTEMPT_HEADER, 0)) > 0:
            self._in_thread(self._spawn, [message])
            return
        self._pending.append(message)
        # a packed message (`<type>.batch`) counts as a full batch: it holds up to pack_max events
        packed = message.delivery_info.get("routing_key", "").endswith("." + envelope.BATCH)
        self._pending_events += self.max_batch if packed else 1
        if self._pending_events >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = self.container.spawn_managed_thread(self._flush_later, identifier="batch-timer")

    def _flush_later(self):
        import eventlet

        eventlet.sleep(self.max_wait)
        self._timer = None
        self._flush()

    def _flush(self):
        batch, self._pending, self._pending_events = self._pending, [], 0
        if batch:
            self._in_thread(self._spawn, batch)

    def _spawn(self, messages):
        self._slots.acquire()  # this thread waits; its messages stay unacked (and undecoded) meanwhile
        events, handled = [], []
        for message in messages:
            try:
                found = self._events_or_park(None, message)
            except Exception:  # noqa: BLE001 - unreadable in a way parse did not foresee: retried, then parked
                self._failed(message, sys.exc_info())
                continue
            if found is None:  # parked
                continue
            if not found:  # a packed message with nothing for this subscription
                self.queue_consumer.ack_message(message)
                continue
            events += found
            handled.append(message)
        if not handled:
            self._release()
            return
        try:
            self.container.spawn_worker(self, (events,), {}, context_data={"channel": "event"},
                                        handle_result=partial(self.handle_batch_result, handled))
        except ContainerBeingKilled:
            self._release()
            for message in handled:
                self.queue_consumer.requeue_message(message)

    def _release(self):
        self._slots.release()

    def handle_batch_result(self, messages, worker_ctx, result=None, exc_info=None):
        self._release()
        if exc_info is None or isinstance(exc_info[1], AlreadyProcessed):
            self.queue_consumer.ack_messages(messages)
            return result, None
        for message in messages:
            self._failed(message, exc_info)
        return result, exc_info


consume_events = ReliableEventConsumer.decorator
consume_event_batches = BatchEventConsumer.decorator
