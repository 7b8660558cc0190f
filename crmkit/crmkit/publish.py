"""A publisher that waits for the broker's confirm on every message (persistent, UTF-8 JSON)."""
import logging
import threading

from kombu import Connection

log = logging.getLogger(__name__)


class ConfirmingPublisher:
    def __init__(self, amqp_uri: str):
        self._amqp_uri = amqp_uri
        self._conn = None
        self._producer = None
        self._lock = threading.Lock()  # green under eventlet's monkey patch

    def publish(self, body, *, exchange, routing_key, message_id=None, headers=None,
                expiration=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        with self._lock:
            try:
                if self._producer is None:
                    self._conn = Connection(self._amqp_uri, transport_options={"confirm_publish": True},
                                            heartbeat=0)
                    self._producer = self._conn.Producer()
                self._producer.publish(
                    body, exchange=exchange, routing_key=routing_key,
                    content_type="application/json", content_encoding="utf-8",
                    delivery_mode=2, message_id=message_id, headers=headers or {},
                    expiration=expiration, retry=False)
            except Exception:
                self._reset()
                raise

    def _reset(self):
        conn, self._conn, self._producer = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - the connection is already broken
                log.debug("closing a broken publisher connection failed", exc_info=True)

    def close(self):
        with self._lock:
            self._reset()
