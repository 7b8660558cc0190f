"""A service for test_ack_window_broker: consumers sharing the consumer channel, one of them
stuck in its handler, one allowed a single batch at a time. Run as `python ack_service.py <prefix>` with AMQP_URI set; it prints a line
per handled batch and one when the stuck handler has started."""
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import sys  # noqa: E402

from nameko.cli.run import run  # noqa: E402

from crmkit import topology  # noqa: E402
from crmkit.config import Settings  # noqa: E402
from crmkit.consumer import consume_event_batches, consume_events  # noqa: E402

PREFIX = sys.argv[1]
EXCHANGE = f"{PREFIX}.events"
for handler, key in (("fast", "fast.#"), ("stuck", "stuck.#"), ("single", "single.#")):
    topology.SUBSCRIPTIONS[f"{PREFIX}.{handler}"] = topology.Subscription(f"{PREFIX}.{handler}", EXCHANGE, (key,))


class AckService:
    name = PREFIX

    @consume_event_batches(f"{PREFIX}.fast", max_batch=10, max_wait=0.05)
    def fast(self, events):
        print(f"fast {len(events)}", flush=True)

    @consume_event_batches(f"{PREFIX}.single", max_batch=1, max_wait=0.01, max_concurrency=1)
    def single(self, events):
        print("enter", flush=True)
        eventlet.sleep(0.2)
        print("leave", flush=True)

    @consume_events(f"{PREFIX}.stuck")
    def stuck(self, event):
        print("stuck", flush=True)
        eventlet.sleep(3600)


if __name__ == "__main__":
    settings = Settings.from_env("reporting")
    run([AckService], settings.nameko_config())
