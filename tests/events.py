"""A plain pika subscriber, as any other enterprise system would use (P2)."""
import json
import time
import uuid

import pika


class Subscriber:
    """Binds its own queue to an exchange and collects the envelopes it receives: `messages` as they
    came, `events` with each packed envelope (`<type>.batch`, README "Events") opened into the events
    it carries, as a subscriber that binds `<type>` and `<type>.batch` sees them."""

    def __init__(self, amqp_uri, exchange, keys=("#",)):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        self.queue = f"test-subscriber-{uuid.uuid4().hex[:8]}"
        self.channel.queue_declare(self.queue, exclusive=True)
        for key in keys:
            self.channel.queue_bind(self.queue, exchange, routing_key=key)
        self.events = []
        self.messages = []

    def drain(self, seconds=0.0):
        deadline = time.monotonic() + seconds
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                if time.monotonic() >= deadline:
                    return self.events
                self.connection.sleep(0.05)
                continue
            message = {"routing_key": method.routing_key, "properties": properties,
                       "body": json.loads(body.decode("utf-8"))}
            self.messages.append(message)
            inner = message["body"].get("data", {}).get("events") if method.routing_key.endswith(".batch") else None
            self.events += [{**message, "body": event, "packed": True} for event in inner] if inner else [message]

    def wait_for(self, predicate, timeout=20.0, messages=False):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain()
            found = [e for e in (self.messages if messages else self.events) if predicate(e)]
            if found:
                return found
            self.connection.sleep(0.1)
        raise AssertionError(f"no matching event within {timeout}s; got {[e['routing_key'] for e in self.events]}")

    def close(self):
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001
            pass


def publish(amqp_uri, exchange, routing_key, body, message_id=None):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    channel.confirm_delivery()
    payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
    channel.basic_publish(exchange, routing_key, payload, pika.BasicProperties(
        content_type="application/json", content_encoding="utf-8", delivery_mode=2, message_id=message_id))
    connection.close()
