"""The ceiling: the broker's raw RPC round-trip rate with pika, one caller, one echo server."""
import json
import multiprocessing
import time
import uuid

import pika

QUEUE = "bench-raw-rpc"


def _server(amqp_uri, ready):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    channel.queue_declare(QUEUE, auto_delete=True)

    def on_request(ch, method, properties, body):
        ch.basic_publish("", properties.reply_to, body,
                         pika.BasicProperties(correlation_id=properties.correlation_id))
        ch.basic_ack(method.delivery_tag)

    channel.basic_qos(prefetch_count=10)
    channel.basic_consume(QUEUE, on_request)
    ready.set()
    channel.start_consuming()


def measure(amqp_uri, seconds=5.0) -> float:
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=_server, args=(amqp_uri, ready), daemon=True)
    server.start()
    ready.wait(30)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    reply_queue = channel.queue_declare("", exclusive=True).method.queue
    replies = {}

    def on_reply(ch, method, properties, body):
        replies[properties.correlation_id] = body

    channel.basic_consume(reply_queue, on_reply, auto_ack=True)
    body = json.dumps({"args": ["李雷"], "kwargs": {}}).encode()
    calls, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        correlation_id = uuid.uuid4().hex
        channel.basic_publish("", QUEUE, body, pika.BasicProperties(reply_to=reply_queue,
                                                                     correlation_id=correlation_id))
        while correlation_id not in replies:
            connection.process_data_events(time_limit=1)
        replies.pop(correlation_id)
        calls += 1
    rate = calls / (time.monotonic() - start)
    connection.close()
    server.terminate()
    return rate


if __name__ == "__main__":
    import os
    print(f"raw RPC: {measure(os.environ.get('AMQP_URI', 'amqp://guest:guest@localhost:5672/')):.0f} calls/s")
