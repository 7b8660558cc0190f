"""The intake's rate limit (C6): a token bucket per client address, on a fake clock."""
import ipaddress
import threading

import pytest

from gateway.ratelimit import TokenBuckets, client_address, parse_networks


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_a_burst_passes_then_the_next_waits_for_a_whole_token_C6(clock):
    buckets = TokenBuckets(burst=3, per_minute=6, clock=clock)  # a token every 10 s

    assert [buckets.take("1.2.3.4") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("1.2.3.4") == 10
    clock.now += 4
    assert buckets.take("1.2.3.4") == 6
    clock.now += 6
    assert buckets.take("1.2.3.4") == 0
    assert buckets.take("1.2.3.4") == 10


def test_each_address_has_its_own_bucket_C6(clock):
    buckets = TokenBuckets(burst=1, per_minute=1, clock=clock)

    assert buckets.take("a") == 0
    assert buckets.take("a") == 60
    assert buckets.take("b") == 0


def test_the_wait_is_at_least_one_second_C6(clock):
    buckets = TokenBuckets(burst=1, per_minute=6000, clock=clock)  # 100 a second

    buckets.take("a")

    assert buckets.take("a") == 1


def test_a_refused_request_costs_no_token_C6(clock):
    buckets = TokenBuckets(burst=1, per_minute=60, clock=clock)
    buckets.take("a")

    for _ in range(5):
        assert buckets.take("a") == 1
    clock.now += 1

    assert buckets.take("a") == 0


def test_buckets_that_have_filled_up_again_are_forgotten_C6(clock):
    buckets = TokenBuckets(burst=2, per_minute=60, clock=clock)
    for address in ("a", "b", "c"):
        buckets.take(address)
    assert len(buckets) == 3

    clock.now += 1  # one token back: full again
    buckets.take("d")

    assert len(buckets) == 1


def test_at_most_max_keys_addresses_are_tracked_the_least_recent_go_first_C6(clock):
    buckets = TokenBuckets(burst=1, per_minute=1, max_keys=3, clock=clock)
    for address in ("a", "b", "c"):
        buckets.take(address)
    buckets.take("a")  # a is refused, and now the most recent

    buckets.take("d")

    assert len(buckets) == 3
    assert buckets.take("a") == 60      # still tracked
    assert buckets.take("b") == 0       # forgotten: a fresh bucket


def test_threads_never_get_more_than_the_burst_C6(clock):
    buckets = TokenBuckets(burst=50, per_minute=1, clock=clock)
    passed = []

    def client():
        for _ in range(20):
            if buckets.take("same") == 0:
                passed.append(1)

    threads = [threading.Thread(target=client) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(passed) == 50


@pytest.mark.parametrize("burst, per_minute", [(0, 60), (5, 0), (5, -1)])
def test_a_limit_that_lets_nothing_through_is_refused_at_start_up_C6(burst, per_minute):
    with pytest.raises(ValueError):
        TokenBuckets(burst, per_minute)


TRUSTED = parse_networks("127.0.0.1, 10.0.0.0/8, ::1")


@pytest.mark.parametrize("remote, forwarded, expected", [
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),                 # not a proxy: its header is ignored
    ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
    ("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3", "198.51.100.1"),  # right-most untrusted
    ("127.0.0.1", "10.0.0.5, 10.0.0.6", "10.0.0.5"),                # all trusted: the left-most
    ("127.0.0.1", "", "127.0.0.1"),                                 # no header: the proxy itself
    ("::1", "2001:db8::7", "2001:db8::7"),
    ("127.0.0.1", "garbage, 10.0.0.1", "garbage"),
])
def test_the_client_is_the_right_most_address_a_trusted_proxy_did_not_add_C6(remote, forwarded, expected):
    assert client_address(remote, forwarded, TRUSTED) == expected


def test_without_trusted_proxies_the_peer_is_the_client_C6():
    assert client_address("127.0.0.1", "198.51.100.1", ()) == "127.0.0.1"


def test_trusted_proxies_are_parsed_and_a_bad_one_is_named_C6():
    assert parse_networks(" 127.0.0.1 ,10.0.0.0/8,") == (ipaddress.ip_network("127.0.0.1/32"),
                                                          ipaddress.ip_network("10.0.0.0/8"))
    assert parse_networks("") == ()
    with pytest.raises(ValueError, match="proxy.example"):
        parse_networks("127.0.0.1, proxy.example")
