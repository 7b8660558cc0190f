"""AckWindow: one multiple-ack per run of handled deliveries, never past one still being handled
(P2: nothing lost — an ack for a message whose handler has not finished would lose it on a crash)."""
from crmkit.acks import AckWindow


class FakeChannel:
    """Records the ack frames and checks them the way RabbitMQ does: the tag must be outstanding."""

    def __init__(self):
        self.frames = []
        self.unacked = set()

    def deliver(self, window, *tags):
        for tag in tags:
            self.unacked.add(tag)
            window.delivered(tag)

    def basic_ack(self, tag, multiple=False):
        assert tag in self.unacked, f"PRECONDITION_FAILED - unknown delivery tag {tag}"
        self.frames.append((tag, multiple))
        self.unacked -= {t for t in self.unacked if t <= tag} if multiple else {tag}


def window_with(*tags):
    channel = FakeChannel()
    window = AckWindow(channel)
    channel.deliver(window, *tags)
    return channel, window


def test_a_run_of_handled_deliveries_is_acked_with_one_frame():
    channel, window = window_with(*range(1, 101))
    window.ack(1)
    assert channel.frames == [(1, True)]
    window.ack(*range(3, 101))  # a batch handled while 2 is not: held
    assert channel.frames == [(1, True)] and window.held == 98
    window.ack(2)
    assert channel.frames == [(1, True), (100, True)] and window.held == 0
    assert channel.unacked == set()


def test_never_acks_past_a_delivery_still_being_handled():
    channel, window = window_with(1, 2, 3, 4)
    window.ack(2)
    window.ack(4)
    assert channel.frames == [] and window.held == 2
    window.ack(1)
    assert channel.frames == [(2, True)]
    assert channel.unacked == {3, 4}  # 3 is still being handled; 4 waits behind it
    window.ack(3)
    assert channel.frames[-1] == (4, True) and channel.unacked == set()


def test_held_deliveries_are_acked_on_their_own_and_the_slow_one_stays_unacked():
    channel, window = window_with(1, 2, 3)
    window.ack(2)
    window.ack(3)
    window.flush_held()
    assert channel.frames == [(2, False), (3, False)]
    assert channel.unacked == {1}
    window.ack(1)  # the later multiple-ack names a tag still outstanding (RabbitMQ's rule)
    assert channel.frames[-1] == (1, True) and channel.unacked == set()


def test_a_requeued_delivery_unblocks_the_run_and_is_never_named_in_an_ack():
    channel, window = window_with(1, 2, 3)
    window.ack(1)
    channel.unacked.discard(2)  # rejected (requeued) on its own
    window.settled(2)
    window.ack(3)
    assert channel.frames == [(1, True), (3, True)]


def test_a_run_ending_in_a_requeued_delivery_acks_up_to_the_last_handled_one():
    channel, window = window_with(1, 2, 3)
    window.ack(2)
    channel.unacked.discard(3)
    window.settled(3)
    window.ack(1)
    assert channel.frames == [(2, True)] and channel.unacked == set()


def test_a_delivery_the_window_never_saw_is_acked_on_its_own():
    channel, window = window_with(5)
    channel.unacked.add(9)
    window.ack(9)
    assert channel.frames == [(9, False)] and channel.unacked == {5}
