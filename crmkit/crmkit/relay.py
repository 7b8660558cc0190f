"""The outbox relay: publishes committed events with confirms and marks them sent.

Fast path: a unit of work hands its just-committed events to the relay of the same
process, which publishes them at once. Safety net: a sweep claims rows still unsent
after `stale_after` seconds (their process died between commit and publish, or the
broker was away) under a lease, so replicas do not send the same row together.
`stale_after` is well above any fast-path lag: a sweep that re-sends rows the fast
path still holds doubles the work of every consumer just when the system is busiest.
At-least-once either way; consumers are idempotent by event_id.
"""
import logging
import os
import time
from datetime import timedelta

from sqlalchemy import select, update

from . import envelope
from .db import chunks

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, engine, writer_engine, outbox, publisher, exchange, *, batch=500, poll=0.5,
                 stale_after=30.0, lease=30.0, sweep_every=5.0, retention_days=7, gather=0.005):
        self.engine = engine
        self.writer = writer_engine
        self.outbox = outbox
        self.publisher = publisher
        self.exchange = exchange
        self.batch = batch
        self.poll = poll
        self.stale_after = stale_after
        self.lease = lease
        self.sweep_every = sweep_every
        self.retention = timedelta(days=retention_days)
        self.gather = gather
        self._pending = None
        self._running = False
        self._last_sweep = 0.0
        self._last_purge = 0.0
        # Test hook: die right after the commit, before any publish (proves the sweep).
        self._die_before_publish = os.environ.get("CRMKIT_FAULT") == "exit_before_publish"

    # -- called by units of work -------------------------------------------------------
    def notify(self, rows):
        """Outbox rows just committed ({"event_id", "event_type", "payload", …})."""
        if self._die_before_publish:
            log.warning("CRMKIT_FAULT=exit_before_publish: exiting after commit, before publish")
            os._exit(3)
        if self._pending is not None:
            for row in rows:
                self._pending.put(row)

    # -- the relay loop (a managed green thread) --------------------------------------------
    def run(self):
        import eventlet.queue

        self._pending = eventlet.queue.LightQueue()
        self._running = True
        self.sweep()
        while self._running:
            batch = self._take(timeout=self.poll)
            if batch:
                self.publish_rows(batch)
            if time.monotonic() - self._last_sweep >= self.sweep_every:
                self.sweep()

    def stop(self):
        self._running = False
        if self._pending is not None:
            remaining = self._take(timeout=0)
            if remaining:
                self.publish_rows(remaining)

    def _take(self, timeout):
        import eventlet
        import eventlet.queue

        events = []
        try:
            events.append(self._pending.get(timeout=timeout) if timeout else self._pending.get_nowait())
        except eventlet.queue.Empty:
            return events
        if timeout and self.gather:
            # Let a few more commits arrive: one confirm round trip and one "sent" update
            # then serve them all, instead of one each.
            eventlet.sleep(self.gather)
        while len(events) < self.batch:
            try:
                events.append(self._pending.get_nowait())
            except eventlet.queue.Empty:
                break
        return events

    # -- publishing ---------------------------------------------------------------------------
    def publish_events(self, events) -> int:
        """Publish envelopes (dicts) as one confirmed batch; mark them sent once confirmed."""
        return self.publish_rows([{"event_id": e["event_id"], "event_type": e["type"],
                                   "payload": envelope.dumps(e)} for e in events])

    def publish_rows(self, rows) -> int:
        """Publish outbox rows (already serialised) as one confirmed batch; mark them sent."""
        try:
            self.publisher.publish_many([
                dict(body=row["payload"], exchange=self.exchange, routing_key=row["event_type"],
                     message_id=row["event_id"]) for row in rows])
        except Exception:  # noqa: BLE001 - the sweep sends them later
            log.warning("outbox publish of %d event(s) failed; left for the sweep", len(rows),
                        exc_info=True)
            return 0
        self._mark_sent([row["event_id"] for row in rows])
        return len(rows)

    def _mark_sent(self, event_ids):
        for chunk in chunks(event_ids):
            try:
                with self.writer.begin() as conn:
                    conn.execute(update(self.outbox).where(self.outbox.c.event_id.in_(chunk))
                                 .values(sent_at=envelope.now(), claimed_until=None))
            except Exception:  # noqa: BLE001 - a re-send later is harmless (idempotent consumers)
                log.warning("marking %d outbox rows sent failed", len(chunk), exc_info=True)

    def sweep(self) -> int:
        """Claim and publish rows left unsent; purge old sent rows now and then."""
        self._last_sweep = time.monotonic()
        moment = envelope.now()
        outbox = self.outbox
        try:
            with self.writer.begin() as conn:
                query = (select(outbox.c.id, outbox.c.event_id, outbox.c.event_type, outbox.c.payload)
                         .where(outbox.c.sent_at.is_(None),
                                outbox.c.created_at < moment - timedelta(seconds=self.stale_after),
                                (outbox.c.claimed_until.is_(None)) | (outbox.c.claimed_until < moment))
                         .order_by(outbox.c.id).limit(self.batch))
                if conn.dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                rows = conn.execute(query).all()
                if rows:
                    conn.execute(update(outbox).where(outbox.c.id.in_([r.id for r in rows]))
                                 .values(claimed_until=moment + timedelta(seconds=self.lease),
                                         attempts=outbox.c.attempts + 1))
        except Exception:  # noqa: BLE001 - the database may be briefly away; try next sweep
            log.warning("outbox sweep failed", exc_info=True)
            return 0
        if rows:
            log.info("outbox sweep: re-sending %d event(s)", len(rows))
            self.publish_rows([r._asdict() for r in rows])
        if time.monotonic() - self._last_purge > 3600:
            self._purge(moment)
        return len(rows)

    def _purge(self, moment):
        self._last_purge = time.monotonic()
        try:
            with self.writer.begin() as conn:
                conn.execute(self.outbox.delete().where(
                    self.outbox.c.sent_at.is_not(None), self.outbox.c.sent_at < moment - self.retention))
        except Exception:  # noqa: BLE001
            log.warning("outbox purge failed", exc_info=True)
