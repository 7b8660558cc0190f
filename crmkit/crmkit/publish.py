"""Publishing with broker confirms: persistent UTF-8 JSON, confirmed a batch at a time.

A batch is published in one go and its confirms are awaited once (RabbitMQ acks with
`multiple`), instead of one round trip per message: under load the relay would
otherwise fall behind its own outbox.
"""
import logging
import socket
import threading
import time

import amqp
from kombu.utils.url import parse_url

log = logging.getLogger(__name__)


def amqp_connection(amqp_uri, connect_timeout=5) -> amqp.Connection:
    url = parse_url(amqp_uri)
    connection = amqp.Connection(
        host=f"{url.get('hostname') or 'localhost'}:{url.get('port') or 5672}",
        userid=url.get("userid") or "guest", password=url.get("password") or "guest",
        virtual_host=url.get("virtual_host") or "/", connect_timeout=connect_timeout)
    connection.connect()
    return connection


class PublishFailed(Exception):
    """The broker refused (nack) or did not confirm a message in time."""


class ConfirmingPublisher:
    def __init__(self, amqp_uri: str, confirm_timeout: float = 10.0):
        self._amqp_uri = amqp_uri
        self._timeout = confirm_timeout
        self._connection = None
        self._channel = None
        self._lock = threading.Lock()  # green under eventlet's monkey patch

    def _open(self):
        self._connection = amqp_connection(self._amqp_uri)
        self._channel = self._connection.channel()
        self._channel.confirm_select()
        self._channel.events["basic_ack"].add(self._on_ack)
        self._channel.events["basic_nack"].add(self._on_nack)
        self._published = 0  # delivery tags count from 1 per channel
        self._acked = set()
        self._acked_upto = 0
        self._nacked = False

    def _on_ack(self, delivery_tag, multiple):
        if multiple:
            self._acked_upto = max(self._acked_upto, delivery_tag)
        else:
            self._acked.add(delivery_tag)
        while self._acked_upto + 1 in self._acked:
            self._acked_upto += 1
            self._acked.discard(self._acked_upto)

    def _on_nack(self, delivery_tag, multiple):
        self._nacked = True
        self._on_ack(delivery_tag, multiple)

    def publish(self, body, *, exchange, routing_key, message_id=None, headers=None, expiration=None):
        self.publish_many([dict(body=body, exchange=exchange, routing_key=routing_key,
                                message_id=message_id, headers=headers, expiration=expiration)])

    def publish_many(self, messages):
        """Publish every message and return once the broker confirmed them all; else raise."""
        if not messages:
            return
        with self._lock:
            try:
                if self._channel is None:
                    self._open()
                self._nacked = False
                for m in messages:
                    body = m["body"].encode("utf-8") if isinstance(m["body"], str) else m["body"]
                    properties = {"content_type": "application/json", "content_encoding": "utf-8",
                                  "delivery_mode": 2, "application_headers": m.get("headers") or {}}
                    if m.get("message_id"):
                        properties["message_id"] = m["message_id"]
                    if m.get("expiration") is not None:
                        properties["expiration"] = str(int(m["expiration"] * 1000))
                    self._channel.basic_publish(amqp.Message(body, **properties),
                                                exchange=m["exchange"], routing_key=m["routing_key"])
                    self._published += 1
                deadline = time.monotonic() + self._timeout
                while self._acked_upto < self._published:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise PublishFailed(f"no confirm within {self._timeout:.0f}s")
                    try:
                        self._connection.drain_events(timeout=remaining)
                    except socket.timeout:
                        continue
                if self._nacked:
                    raise PublishFailed("the broker refused (nack) a message")
            except Exception:
                self._reset()
                raise

    def _reset(self):
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                connection.collect()
            except Exception:  # noqa: BLE001 - the connection is already broken
                log.debug("closing a broken publisher connection failed", exc_info=True)

    def close(self):
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.close()
                except Exception:  # noqa: BLE001
                    pass
            self._connection = self._channel = None
