"""The ack window against a real RabbitMQ (P2): a service's consumers share one channel and acks go
as multiple-acks, so this proves that a delivery still being handled is never acknowledged with
the others — a crash hands it back to the queue — while the ones handled behind it are acked."""
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue

from crmkit import envelope

AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672//")
SERVICE = Path(__file__).with_name("ack_service.py")


def broker_up():
    try:
        with Connection(AMQP_URI, connect_timeout=2) as conn:
            conn.connect()
        return True
    except Exception:  # noqa: BLE001
        return False


pytestmark = pytest.mark.skipif(not broker_up(), reason="needs RabbitMQ at AMQP_URI")


def read_lines(process, until, timeout=30):
    """stdout lines until `until(lines)` holds."""
    lines, deadline = [], time.monotonic() + timeout
    os.set_blocking(process.stdout.fileno(), False)
    while not until(lines):
        assert time.monotonic() < deadline, f"timed out; got {lines}"
        chunk = process.stdout.readline()
        if chunk:
            lines.append(chunk.strip())
        else:
            time.sleep(0.02)
    return lines


def counts(channel, queue):
    """(ready messages, consumers) of the queue."""
    _, messages, consumers = channel.queue_declare(queue=queue.name, passive=True)
    return messages, consumers


@contextlib.contextmanager
def ack_service():
    """ack_service.py running against RabbitMQ: yields (process, send, depths); queues removed after."""
    prefix = f"acktest{uuid.uuid4().hex[:8]}"
    exchange = Exchange(f"{prefix}.events", type="topic", durable=True)
    queues = {name: Queue(f"{prefix}.{name}", exchange, routing_key=f"{name}.#", durable=True)
              for name in ("fast", "stuck", "single")}
    with Connection(AMQP_URI) as conn:
        channel = conn.channel()
        for queue in queues.values():
            queue(channel).declare()
        process = subprocess.Popen([sys.executable, str(SERVICE), prefix], stdout=subprocess.PIPE, text=True,
                                   env={**os.environ, "AMQP_URI": AMQP_URI, "CRM_LOG_LEVEL": "WARNING"})
        producer = conn.Producer(channel)

        def send(routing_key):
            producer.publish(envelope.dumps(envelope.new_event(routing_key, {"n": 1})), exchange=exchange,
                             routing_key=routing_key, content_type="application/json", delivery_mode=2)

        def depths():
            return {name: counts(channel, queue)[0] for name, queue in queues.items()}
        try:
            deadline = time.monotonic() + 30
            while any(counts(channel, queue)[1] == 0 for queue in queues.values()):
                assert time.monotonic() < deadline, "the service did not start consuming"
                time.sleep(0.1)
            yield process, send, depths
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
            for queue in queues.values():
                queue(channel).delete()
            exchange(channel).delete()


def test_a_crash_hands_back_the_delivery_being_handled_and_none_of_those_acked_behind_it_P2():
    with ack_service() as (process, send, depths):
        send("stuck.one")  # the first delivery on the channel: the head of the window
        read_lines(process, lambda lines: "stuck" in lines)
        for _ in range(50):
            send("fast.one")
        read_lines(process, lambda lines: sum(int(x.split()[1]) for x in lines if x.startswith("fast")) >= 50)
        time.sleep(1.0)  # longer than the window's hold: the fast ones are acked on their own
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        time.sleep(0.5)  # the broker notices the closed connection and requeues what was unacked
        assert depths() == {"fast": 0, "stuck": 1, "single": 0}


def test_max_concurrency_one_handles_one_batch_at_a_time():
    with ack_service() as (process, send, depths):
        for _ in range(5):
            send("single.one")
        lines = read_lines(process, lambda lines: lines.count("leave") == 5)
        assert [x for x in lines if x in ("enter", "leave")] == ["enter", "leave"] * 5
