"""The gateway's outbox relay, for threads instead of green threads.

Users and settings change rarely, so the request that committed a change publishes its
events at once, with confirms, before it answers; a daemon thread sweeps what a failed
publish or a dead process left behind (crmkit.relay.OutboxRelay does both halves).
"""
import logging
import threading

from crmkit.db import writer
from crmkit.publish import ConfirmingPublisher, amqp_connection
from crmkit.relay import OutboxRelay

from .db import EXCHANGE, outbox

log = logging.getLogger(__name__)


class GatewayRelay:
    def __init__(self, engine, amqp_uri, sweep_every=5.0, stale_after=5.0):
        self.relay = OutboxRelay(engine, writer(engine), outbox, ConfirmingPublisher(amqp_uri), EXCHANGE,
                                 stale_after=stale_after, sweep_every=sweep_every)
        self.sweep_every = sweep_every
        self.amqp_uri = amqp_uri
        self._stop = threading.Event()
        self._thread = None

    def publish_now(self, rows):
        """on_commit of the gateway's units of work: publish the rows just committed."""
        self.relay.publish_rows(rows)

    def start(self):
        self._thread = threading.Thread(target=self._sweep_loop, name="gateway-outbox-sweep", daemon=True)
        self._thread.start()

    def _sweep_loop(self):
        self._declare()
        while not self._stop.wait(self.sweep_every):
            try:
                self.relay.sweep()
            except Exception:  # noqa: BLE001 - keep sweeping; the next round may succeed
                log.warning("gateway outbox sweep failed", exc_info=True)

    def _declare(self):
        """The gateway's exchange exists before its first event, whoever starts first."""
        try:
            connection = amqp_connection(self.amqp_uri)
            try:
                connection.channel().exchange_declare(EXCHANGE, "topic", durable=True, auto_delete=False)
            finally:
                connection.close()
        except Exception:  # noqa: BLE001 - the services declare it too; the sweep re-sends
            log.warning("declaring %s failed", EXCHANGE, exc_info=True)

    def stop(self):
        self._stop.set()
