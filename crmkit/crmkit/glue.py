"""Thin Nameko adapters: everything Nameko-specific a service touches lives here."""
import json
import logging
import sys
import threading

import eventlet
from kombu import Connection
from nameko.amqp.publish import Publisher
from nameko.constants import (AMQP_SSL_CONFIG_KEY, DEFAULT_SERIALIZER, DEFAULT_TRANSPORT_OPTIONS,
                              LOGIN_METHOD_CONFIG_KEY, SERIALIZER_CONFIG_KEY)
from nameko.exceptions import UnserializableValueError, serialize
from nameko.extensions import DependencyProvider
from nameko.rpc import MethodProxy, Responder, Rpc, RpcConsumer, RpcProxy, get_rpc_exchange

from . import errors, topology
from .context import RequestContext
from .db import make_engine, outbox_pending, session_factory, writer
from .publish import ConfirmingPublisher
from .relay import OutboxRelay

log = logging.getLogger(__name__)

# RPC-visible errors come back as the same classes in any Nameko client.
from nameko.exceptions import registry as _registry  # noqa: E402

for _cls in errors.EXPECTED:
    _registry[f"{_cls.__module__}.{_cls.__name__}"] = _cls


class ServiceUnavailable(Exception):
    """A service this one depends on did not answer in time."""


class _SharedProducer:
    """One kombu producer per process for RPC requests and replies, guarded by a (green) lock.

    Nameko's Publisher builds a Connection, looks up a pool and wraps the publish in
    ensure() on every message; this cost a sixth of a service's CPU.
    """
    _lock = threading.Lock()
    _producers = {}

    @classmethod
    def publish(cls, amqp_uri, payload, **kwargs):
        with cls._lock:
            for attempt in (1, 2):
                producer = cls._producers.get(amqp_uri)
                if producer is None:
                    connection = Connection(amqp_uri, transport_options=dict(DEFAULT_TRANSPORT_OPTIONS))
                    producer = cls._producers[amqp_uri] = connection.Producer()
                try:
                    return producer.publish(payload, retry=False, **kwargs)
                except Exception:
                    cls._producers.pop(amqp_uri, None)
                    try:
                        producer.connection.release()
                    except Exception:  # noqa: BLE001 - it is broken already
                        pass
                    if attempt == 2:
                        raise


class _UnconfirmedPublisher(Publisher):
    """RPC requests and replies need no broker confirm: the caller has a timeout."""
    use_confirms = False
    transport_options = dict(DEFAULT_TRANSPORT_OPTIONS)

    def publish(self, payload, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers.update(kwargs.pop("extra_headers", None) or {})
        kwargs.setdefault("serializer", self.serializer)
        kwargs.setdefault("delivery_mode", self.delivery_mode)
        kwargs.pop("use_confirms", None)
        kwargs.pop("declare", None)
        _SharedProducer.publish(self.amqp_uri, payload, headers=headers, **kwargs)


class _Responder(Responder):
    """Nameko's Responder encodes every reply twice (a "disaster avoidance" dry run, then
    the publish itself); with JSON replies this one encodes it once."""
    publisher_cls = _UnconfirmedPublisher

    def send_response(self, result, exc_info):
        if self.message.properties.get("content_type") != "application/json":
            return super().send_response(result, exc_info)
        error = serialize(exc_info[1]) if exc_info is not None else None
        try:
            body = json.dumps({"result": result, "error": error}, ensure_ascii=False)
        except Exception:  # noqa: BLE001 - the result cannot be sent: say so, as Nameko does
            exc_info = sys.exc_info()
            result, error = None, serialize(UnserializableValueError(result))
            body = json.dumps({"result": None, "error": error})
        _SharedProducer.publish(
            self.amqp_uri, body.encode("utf-8"), exchange=self.exchange,
            routing_key=self.message.properties["reply_to"],
            correlation_id=self.message.properties.get("correlation_id"),
            content_type="application/json", content_encoding="utf-8", delivery_mode=2)
        return result, exc_info


class _RpcConsumer(RpcConsumer):
    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = _Responder(
            config["AMQP_URI"], get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class _Rpc(Rpc):
    rpc_consumer = _RpcConsumer()


rpc = _Rpc.decorator
"""Nameko's @rpc, replying without publisher confirms. Every service uses this one
(mixing it with nameko.rpc.rpc would put two consumers on one queue)."""


class _UnconfirmedMethodProxy(MethodProxy):
    publisher_cls = _UnconfirmedPublisher


class Storage(DependencyProvider):
    """The service's database: hands each worker a fresh unit of work; runs the outbox relay."""

    def __init__(self, uow_class, metadata):
        self.uow_class = uow_class
        self.metadata = metadata
        self.outbox, self.inbox = (metadata.tables["outbox"], metadata.tables["inbox"])

    def setup(self):
        settings = self.container.config["CRM_SETTINGS"]
        self.engine = make_engine(settings.database_url, pool_size=settings.max_workers + 2)
        self.sessions = session_factory(self.engine)
        self.exchange = f"{self.container.service_name}.events"
        self.pack_max = settings.event_pack_max
        self.relay = OutboxRelay(self.engine, writer(self.engine), self.outbox,
                                 ConfirmingPublisher(settings.amqp_uri), self.exchange,
                                 stale_after=settings.outbox_stale_after)

    def start(self):
        self.container.spawn_managed_thread(self.relay.run, identifier="outbox-relay")

    def stop(self):
        self.relay.stop()
        self.relay.publisher.close()
        self.engine.dispose()

    def kill(self):
        self.relay.stop()

    def get_dependency(self, worker_ctx):
        return self.uow_class(self.sessions, self.outbox, self.inbox, self.exchange,
                              on_commit=self.relay.notify, pack_max=self.pack_max)

    def pending(self):
        return outbox_pending(self.engine, self.outbox)


class Context(DependencyProvider):
    """The acting user and correlation, as a plain RequestContext (handlers never see worker_ctx)."""

    def get_dependency(self, worker_ctx):
        return RequestContext.from_context_data(worker_ctx.data)


class _TimedProxy:
    def __init__(self, proxy, timeout, service):
        self._proxy, self._timeout, self._service = proxy, timeout, service

    def __getattr__(self, name):
        proxy = self._proxy
        method = _UnconfirmedMethodProxy(proxy.worker_ctx, proxy.service_name, name, proxy.reply_listener)

        def call(*args, **kwargs):
            reply = method.call_async(*args, **kwargs)
            try:
                with eventlet.Timeout(self._timeout):
                    return reply.result()
            except eventlet.Timeout:
                raise ServiceUnavailable(f"{self._service}.{name} did not answer in "
                                         f"{self._timeout:.0f}s") from None
        return call


class ServiceRpc(RpcProxy):
    """Nameko's RpcProxy, with the timeout it lacks (CRM_RPC_TIMEOUT)."""

    def get_dependency(self, worker_ctx):
        timeout = self.container.config["CRM_SETTINGS"].rpc_timeout
        return _TimedProxy(super().get_dependency(worker_ctx), timeout, self.target_service)


class Operations(DependencyProvider):
    """Health, dead-letter counts and replay for the operators (P4)."""

    def setup(self):
        self.settings = self.container.config["CRM_SETTINGS"]
        self.subscriptions = topology.subscriptions_of(self.container.service_name)

    def get_dependency(self, worker_ctx):
        return self

    def outbox(self):
        storage = next(d for d in self.container.dependencies if isinstance(d, Storage))
        return storage.pending()

    def dead_letters(self):
        names = [s.parked_queue for s in self.subscriptions]
        depths = topology.queue_depths(self.settings.amqp_uri, names)
        return {name: (d or {}).get("messages", 0) for name, d in depths.items()}

    def queues(self):
        names = [q for s in self.subscriptions for q in (s.queue, s.retry_queue, s.parked_queue)]
        return topology.queue_depths(self.settings.amqp_uri, names)

    def replay(self, subscription=None, limit=None):
        """Move parked messages back onto their queue (attempts reset). Returns the count."""
        from kombu import Connection

        moved = 0
        with Connection(self.settings.amqp_uri, transport_options={"confirm_publish": True}) as conn:
            channel = conn.channel()
            producer = conn.Producer(channel)
            for sub in self.subscriptions:
                if subscription and sub.name != subscription:
                    continue
                # Only what is parked now: a replayed message that fails again is parked
                # again, and must not be picked up by this same replay.
                _, waiting, _ = channel.queue_declare(queue=sub.parked_queue, passive=True)
                for _ in range(waiting):
                    if limit is not None and moved >= limit:
                        break
                    message = channel.basic_get(sub.parked_queue, no_ack=False)
                    if message is None:
                        break
                    headers = {k: v for k, v in (message.headers or {}).items()
                               if not k.startswith("x-crm-") and not k.startswith("x-death")}
                    producer.publish(message.body, exchange="", routing_key=sub.queue,
                                     headers=headers, delivery_mode=2,
                                     content_type=message.content_type or "application/json",
                                     content_encoding=message.content_encoding or "utf-8",
                                     message_id=message.properties.get("message_id"))
                    channel.basic_ack(message.delivery_info["delivery_tag"])
                    moved += 1
            channel.close()
        return moved


class OperationsMixin:
    """RPC methods every service answers: health, dead letters, replay."""

    ops = Operations()

    @rpc
    def health(self):
        """Liveness and backlog of this service (P4)."""
        dead = self.ops.dead_letters()
        return {"status": "ok", "service": self.name, "dead_letters": sum(dead.values()),
                "parked": dead, "outbox": self.ops.outbox()}

    @rpc
    def queues(self):
        """Depth and consumers of this service's queues (P4)."""
        return self.ops.queues()

    @rpc
    def replay_dead_letters(self, subscription=None, limit=None):
        """Move parked messages back onto their queue. Returns {"replayed": n}."""
        return {"replayed": self.ops.replay(subscription, limit)}
