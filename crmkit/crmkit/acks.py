"""Acknowledge many deliveries with one `basic.ack multiple=true` frame.

An ack per message is a frame RabbitMQ parses and a socket write the consumer makes: at
thousands of events a second it was a tenth of a service's CPU. A batch of a hundred
messages can be acknowledged with one frame — but `multiple` acknowledges *every* delivery
up to the tag on the channel, and a service's consumers share one channel, so a blind
multiple-ack would also acknowledge another consumer's message still being handled (and
lose it if the process then died).

`AckWindow` keeps the channel's deliveries in order and sends one multiple-ack for the
longest run of finished ones at the head: never past a delivery still being handled. A
finished delivery held back behind a slow one is acknowledged on its own after `hold`
seconds (`flush_held`), so a long handler delays other acks by a moment, never holds them.
RabbitMQ rejects a multiple-ack whose own tag is no longer outstanding, so the frame always
names the highest tag in the run that is still unacknowledged.
"""
from collections import OrderedDict

OUTSTANDING, FINISHED, SETTLED = 0, 1, 2


class AckWindow:
    def __init__(self, channel):
        self.channel = channel
        self._tags = OrderedDict()   # delivery tag → state, in delivery order
        self.held = 0                # FINISHED ones not acknowledged yet

    def delivered(self, tag):
        self._tags[tag] = OUTSTANDING

    def ack(self, *tags):
        """The deliveries were handled: acknowledge them with the run they end, or hold them."""
        for tag in tags:
            if tag in self._tags:
                self._tags[tag] = FINISHED
                self.held += 1
            else:  # not seen as delivered (from before a reset): on its own
                self.channel.basic_ack(tag)
        self._ack_head()

    def settled(self, tag):
        """The delivery was rejected or requeued on its own: it no longer blocks the head."""
        if tag in self._tags:
            self._tags[tag] = SETTLED
            self._ack_head()

    def _ack_head(self):
        last = None
        while self._tags:
            tag, state = next(iter(self._tags.items()))
            if state == OUTSTANDING:
                break
            del self._tags[tag]
            if state == FINISHED:
                last = tag
                self.held -= 1
        if last is not None:
            self.channel.basic_ack(last, multiple=True)

    def flush_held(self):
        """Acknowledge on its own each finished delivery waiting behind an unfinished one."""
        held = [tag for tag, state in self._tags.items() if state == FINISHED]
        for tag in held:
            self._tags[tag] = SETTLED
        self.held = 0
        for tag in held:
            self.channel.basic_ack(tag)
        self._ack_head()
