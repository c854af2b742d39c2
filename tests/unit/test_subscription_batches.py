"""What the projector takes as one batch: everything the subscription has queued, in order."""

from __future__ import annotations

from queue import Queue
from uuid import uuid4

from eventsourcing.persistence import Notification

from projector.following import PolledSubscription


def _notification(position: int) -> Notification:
    return Notification(
        id=position, originator_id=uuid4(), originator_version=1, topic="t", state=b"{}"
    )


def _subscription(pulls: list[list[int]], limit: int) -> PolledSubscription:
    """A subscription whose pulling thread has queued ``pulls`` (without a database)."""
    subscription = PolledSubscription.__new__(PolledSubscription)
    subscription._notifications, subscription._notifications_index = [], 0
    subscription._thread_error, subscription._select_limit = None, limit
    subscription._notifications_queue = Queue()
    for pull in pulls:
        subscription._notifications_queue.put([_notification(p) for p in pull])
    return subscription


def test_what_several_pulls_queued_is_one_batch_in_log_order():
    subscription = _subscription([[1], [2, 3], [4], [5, 6]], limit=1000)

    first = subscription.next_batch(timeout=0)
    then = subscription.next_batch(timeout=0)

    assert [n.id for n in first] == [1, 2, 3, 4, 5, 6]
    assert then == []


def test_a_batch_stops_growing_at_the_batch_size():
    subscription = _subscription([[1, 2], [3, 4], [5, 6], [7]], limit=3)

    batches = [[n.id for n in subscription.next_batch(timeout=0)] for _ in range(3)]

    assert batches == [[1, 2, 3, 4], [5, 6, 7], []]
