"""Following the event log: the subscription the projector reads it through, its
events decoded, and when Python's cyclic garbage collector may run meanwhile.

The subscription is eventsourcing's LISTEN/NOTIFY one, backed by a timed poll
so that a lost notification or a dead listening connection never stalls the
projector, and handing over everything it holds as one batch.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from queue import Empty

from eventsourcing.persistence import Notification, ShutDown
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresFactory,
    PostgresSubscription,
)
from eventsourcing.utils import Environment, get_topic

from watchlist.database import Database
from watchlist.domain.base import DomainEvent
from watchlist.persistence import LogRecorder, MsgspecMapper, MsgspecTranscoder

log = logging.getLogger(__name__)


class PolledSubscription(PostgresSubscription):
    """eventsourcing's subscription, woken by NOTIFY or, at the latest, by a timed poll."""

    def __init__(
        self,
        recorder: PostgresApplicationRecorder,
        gt: int,
        *,
        poll_interval: float,
        batch_size: int,
    ) -> None:
        self.poll_interval = poll_interval
        super().__init__(recorder=recorder, gt=gt)
        self._select_limit = batch_size

    def _loop_on_pull(self) -> None:
        # As the library's loop, but its wait for a notification has a timeout.
        try:
            self._pull()
            while not self._has_been_stopped:
                self._has_been_notified.wait(timeout=self.poll_interval)
                self._pull()
        except BaseException as e:
            if self._thread_error is None:
                self._thread_error = e
            self.stop()

    def next_batch(self, timeout: float) -> list[Notification]:
        """Everything the subscription holds now, up to about the batch size, or ``[]``
        after ``timeout``.

        The library's pulling thread queues what each notification brings, often an
        event or two. Taken one queued pull at a time, a projector that fell behind
        worked through many small batches, each paying a transaction's fixed cost, and
        stayed behind; all that waits is now taken as one batch.
        """
        if self._notifications_index < len(self._notifications):
            rest = list(self._notifications[self._notifications_index :])
            self._notifications_index = len(self._notifications)
            return rest
        batch: list[Notification] = []
        try:
            batch += self._notifications_queue.get(timeout=timeout)
            while len(batch) < self._select_limit:
                batch += self._notifications_queue.get_nowait()
        except (Empty, ShutDown):
            pass
        if self._thread_error is not None:
            raise self._thread_error
        self._notifications, self._notifications_index = batch, len(batch)
        return batch


def event_recorder(database: Database) -> PostgresApplicationRecorder:
    # The library's recorder, making the log's tables under the schema's lock.
    env = Environment(
        "Watchlist",
        database.eventsourcing_env()
        | {"POSTGRES_POOL_SIZE": "2", "APPLICATION_RECORDER_TOPIC": get_topic(LogRecorder)},
    )
    recorder = PostgresFactory(env).application_recorder()
    assert isinstance(recorder, PostgresApplicationRecorder)
    return recorder


MAPPER = MsgspecMapper(transcoder=MsgspecTranscoder())


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch is projected.

    Projecting allocates millions of small objects (events, report states, rows),
    which would trigger full collections that walk everything the process holds,
    its caches of match keys included: a third of a replay's time went there. What
    a batch makes holds no cycles, so reference counting frees it; collection
    resumes after the batch.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# While following the log the collector runs only when the projector is idle (and there
# is garbage it may find), over the young objects; over everything at least every
# COLLECT_EVERY seconds, idle or not.
COLLECT_WHEN_IDLE_AFTER = 10_000  # container objects allocated since the last collection
COLLECT_EVERY = 600.0


class IdleCollector:
    """Cyclic garbage collection when nothing waits on the projector.

    Left to itself, the collector ran between batches and inside the transactions
    around them, and walked what the projector keeps between batches (report states,
    the profiles it wrote, the match keys): at the default bench size, 0.67 s of
    collections in 10 s of reports at 200/s, one of them a 195 ms pause in a batch of a
    single report, with every report submitted meanwhile waiting behind it. Reference
    counting frees what a batch makes; the collector only finds cycles, which the
    projector hardly makes, so it can wait for a moment without work.

    An idle moment collects the young generations alone: what the batches since the
    last one made. A full collection walks every state the projector remembers (174 ms
    at a million reports), and a report that arrives meanwhile waits for it; it runs
    every ``COLLECT_EVERY`` seconds.
    """

    def __init__(self) -> None:
        self._last_full = time.monotonic()

    def __call__(self, idle: bool) -> None:
        started = time.perf_counter()
        if time.monotonic() - self._last_full > COLLECT_EVERY:
            gc.collect()
            self._last_full = time.monotonic()
        elif idle and gc.get_count()[0] > COLLECT_WHEN_IDLE_AFTER:
            gc.collect(1)
        else:
            return
        log.debug("garbage collection took %.0f ms", (time.perf_counter() - started) * 1e3)


def decode(notifications: Sequence[Notification]) -> list[tuple[int, DomainEvent]]:
    return [(n.id, MAPPER.to_domain_event(n)) for n in notifications]  # type: ignore[misc]
