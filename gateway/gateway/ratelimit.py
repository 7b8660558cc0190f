"""A token bucket per client address, held in the gateway process (C6: the public intake).

Thread-safe (gunicorn runs one process with many threads). Memory stays bounded: a bucket
that has filled up again is the same as no bucket and is dropped, and at most `max_keys`
addresses are tracked (the least recently seen go first).
"""
import ipaddress
import math
import threading
import time
from collections import OrderedDict


class TokenBuckets:
    """`burst` requests at once per key, then `per_minute` a minute."""

    def __init__(self, burst, per_minute, max_keys=10_000, clock=time.monotonic):
        if burst < 1 or per_minute <= 0:
            raise ValueError("A rate limit needs a burst of at least 1 and a positive rate.")
        self.capacity = float(burst)
        self.rate = per_minute / 60.0  # tokens a second
        self.max_keys = max_keys
        self._clock = clock
        self._buckets = OrderedDict()  # key -> (tokens, when); least recently seen first
        self._lock = threading.Lock()

    def take(self, key) -> int:
        """Spend one token of `key`'s bucket: 0 if there was one, else the whole seconds (≥ 1)
        until there is."""
        with self._lock:
            now = self._clock()
            tokens = self._level(self._buckets.pop(key, None), now)
            wait = 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))
            self._buckets[key] = (tokens - 1 if not wait else tokens, now)
            self._forget(now)
            return wait

    def __len__(self):
        return len(self._buckets)

    def _level(self, bucket, now):
        if bucket is None:
            return self.capacity
        tokens, when = bucket
        return min(self.capacity, tokens + (now - when) * self.rate)

    def _forget(self, now):
        """Drop the oldest buckets while they are full again or there are too many."""
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            if len(self._buckets) <= self.max_keys and self._level(bucket, now) < self.capacity:
                return
            del self._buckets[key]


def parse_networks(text):
    """"10.0.0.1, 192.168.0.0/16" → networks; a bad entry raises ValueError naming it."""
    networks = []
    for item in (text or "").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(f"Not an IP address or network: {item.strip()!r}") from None
    return tuple(networks)


def _trusted(address, networks):
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(remote_addr, forwarded_for, trusted_networks):
    """The peer's address; if the peer is a trusted proxy, the right-most X-Forwarded-For
    address that is not one (what a client writes further left can be forged)."""
    if not remote_addr or not trusted_networks or not _trusted(remote_addr, trusted_networks):
        return remote_addr
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted_networks):
            return hop
    return hops[0] if hops else remote_addr
