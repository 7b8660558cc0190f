"""A pool of started Nameko standalone proxies: one per concurrent request, never one per request.

Each proxy declares its reply queue once, when it starts. A call borrows a proxy,
sets the caller's context data (user, roles, correlation id) and gives it back.
A proxy whose connection broke or whose call timed out is discarded, not reused.
"""
import logging
import queue
import threading

from nameko.exceptions import RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy

import crmkit.glue  # noqa: F401 - registers crmkit.errors for deserialisation

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """The broker or the service could not be reached."""


class ServiceTimeout(Exception):
    """The service did not answer in time."""


class RpcPool:
    def __init__(self, amqp_uri, size=16, timeout=10.0):
        self._config = {"AMQP_URI": amqp_uri, "serializer": "json"}
        self._timeout = timeout
        self._idle = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    def _new(self, timeout):
        standalone = ClusterRpcProxy(self._config, timeout=timeout)
        return standalone, standalone.start()

    def call(self, service, method, *args, context=None, timeout=None, **kwargs):
        """Call service.method; a broken pooled connection (say, after a broker restart) is
        replaced and the call tried once more. Writes are safe to repeat: creates carry a
        request key and the rest are idempotent."""
        try:
            return self._call(service, method, args, kwargs, context, timeout)
        except ServiceUnavailable:
            return self._call(service, method, args, kwargs, context, timeout)

    def _call(self, service, method, args, kwargs, context, timeout):
        if not self._slots.acquire(timeout=self._timeout):
            raise ServiceUnavailable("Too many requests in flight.")
        item = None
        try:
            custom = timeout is not None and timeout != self._timeout
            try:
                item = self._new(timeout) if custom else (self._idle.get_nowait() if not self._idle.empty()
                                                          else self._new(self._timeout))
            except Exception as exc:  # noqa: BLE001 - the broker is away
                raise ServiceUnavailable(f"Cannot reach the message broker: {exc}") from exc
            standalone, proxy = item
            standalone._worker_ctx.data = {k: v for k, v in (context or {}).items() if v is not None}
            try:
                result = getattr(proxy[service], method)(*args, **kwargs)
            except RpcTimeout:
                self._discard(item)
                item = None
                raise ServiceTimeout(f"{service} did not answer within the time limit.") from None
            except (OSError, ConnectionError) as exc:
                self._discard(item)
                item = None
                raise ServiceUnavailable(f"Lost the connection to the broker: {exc}") from exc
            except Exception as exc:
                if _is_connection_error(exc):
                    self._discard(item)
                    item = None
                    raise ServiceUnavailable(f"Lost the connection to the broker: {exc}") from exc
                raise
            return result
        finally:
            if item is not None:
                if timeout is not None and timeout != self._timeout:
                    self._discard(item)
                else:
                    self._idle.put(item)
            self._slots.release()

    @staticmethod
    def _discard(item):
        try:
            item[0].stop()
        except Exception:  # noqa: BLE001 - it is broken already
            log.debug("stopping a broken RPC proxy failed", exc_info=True)

    def close(self):
        while not self._idle.empty():
            self._discard(self._idle.get_nowait())


def _is_connection_error(exc):
    from amqp.exceptions import ConnectionError as AmqpConnectionError
    from kombu.exceptions import OperationalError

    return isinstance(exc, (OperationalError, AmqpConnectionError))
