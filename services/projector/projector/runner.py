"""The projector process: follow the event log, project it in batches, exactly once.

It follows the log through ``projector.following``'s subscription. Each batch
of events, its tracking position and the audit chain's links commit in one
transaction. One projector writes at a time: it holds a PostgreSQL advisory
lock on the very connection it writes with, and standbys wait for it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.persistence import Notification, PersistenceError
from eventsourcing.postgres import PostgresApplicationRecorder

from projector import tables
from projector.chain import HEAD as CHAIN_HEAD
from projector.chain import Chain
from projector.chain import ensure_tables as ensure_chain_tables
from projector.following import (
    IdleCollector,
    PolledSubscription,
    collector_paused,
    decode,
    event_recorder,
)
from projector.projection import Projection
from projector.writing import Writes
from watchlist.database import Database
from watchlist.domain.taxonomy import Taxonomy

log = logging.getLogger(__name__)
LOCK_KEY = (0x5741, 1)  # ("WA", 1): the projector's advisory lock


@dataclass
class ProjectorRunner:
    database: Database
    taxonomy: Taxonomy
    chain: Chain
    batch_size: int = 1000
    poll_interval: float = 1.0
    # A batch that takes longer than this from its first statement to its commit is
    # logged, with where its time went: what a report waited for beyond the commit.
    slow_batch_seconds: float = 1.0

    def __post_init__(self) -> None:
        self.projection = Projection(self.taxonomy)
        self._generation: int | None = None
        self.holds_lock = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Project until ``stop`` is set; reconnect and resume after any database failure."""
        while not stop.is_set():
            try:
                self._run_once(stop)
            except (
                psycopg.OperationalError,
                psycopg.InterfaceError,
                PersistenceError,
                OSError,
            ) as exc:
                self.holds_lock.clear()
                log.warning("projector lost the database (%s); resuming in 1 s", exc)
                stop.wait(1.0)

    def _run_once(self, stop: threading.Event) -> None:
        recorder = event_recorder(self.database)
        try:
            with psycopg.connect(self.database.url, autocommit=True) as conn:
                if not self._take_lock(conn, stop):
                    return
                # Another projector may have written while this one waited.
                self.projection.written.clear()
                live = ensure_live_generation(conn)
                if tables.format_of(conn, live) != tables.FORMAT:
                    self._rebuild(live)
                ensure_chain_tables(conn)
                while not stop.is_set():
                    self._follow(conn, recorder, stop)
        finally:
            self.holds_lock.clear()
            recorder.datastore.close()

    def _rebuild(self, live: int) -> None:
        """Replace a live generation built by older code. The API serves it meanwhile,
        except what this code cannot read of it: that is answered 503 (``live.Rebuilding``)."""
        from projector.rebuild import rebuild  # it builds on this module

        log.warning(
            "read models (generation %s) are not in format %s: replaying the log",
            live,
            tables.FORMAT,
        )
        rebuilt = rebuild(self.database, self.taxonomy)
        log.info("generation %s is live, at position %s", rebuilt.generation, rebuilt.position)

    def _take_lock(self, conn: psycopg.Connection[Any], stop: threading.Event) -> bool:
        waiting = False
        while not stop.is_set():
            row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK_KEY).fetchone()
            if row and row[0]:
                self.holds_lock.set()
                log.info("projector holds the lock")
                return True
            if not waiting:
                log.info("another projector is running; standing by")
                waiting = True
            stop.wait(1.0)
        return False

    def _follow(
        self,
        conn: psycopg.Connection[Any],
        recorder: PostgresApplicationRecorder,
        stop: threading.Event,
    ) -> None:
        position = tracked_position(conn)
        # The chain may trail the log (see projector/chain.py): it catches up a step at a
        # time, with each batch and whenever no batch is waiting.
        behind = True
        collect = IdleCollector()
        with (
            collector_paused(),
            PolledSubscription(
                recorder, gt=position, poll_interval=self.poll_interval, batch_size=self.batch_size
            ) as subscription,
        ):
            while not stop.is_set():
                batch = subscription.next_batch(timeout=0 if behind else self.poll_interval)
                if batch:
                    behind = self.commit(conn, batch)
                elif behind:
                    behind = self._chain_step(conn)
                collect(idle=not batch and not behind)

    def commit(self, conn: psycopg.Connection[Any], batch: Sequence[Notification]) -> bool:
        """Apply ``batch`` and move the tracking position, in one transaction; whether the
        chain still trails the batch's end."""
        try:
            return self._commit(conn, batch)
        except BaseException:
            self.projection.written.clear()  # what it wrote was rolled back
            raise

    def _commit(self, conn: psycopg.Connection[Any], batch: Sequence[Notification]) -> bool:
        times = [time.perf_counter()]
        joined = self.projection.joined
        with _transaction(conn), conn.cursor() as cur:
            # Where the read models and the chain stand, in the message that begins.
            live = tables.begin_on_live_generation(
                cur, f"SELECT t.position, h.* FROM tracking t CROSS JOIN ({CHAIN_HEAD}) h"
            )
            done = cur.fetchone()
            assert done is not None
            if live != self._generation:  # a rebuild was swapped in
                self.projection.written.clear()
                self._generation = live
            # After a rebuild's swap the new generation may be ahead of this subscription.
            todo = [n for n in batch if n.id > done[0]]
            end = batch[-1].id
            # The batch's last writes go as one statement, with the announcement.
            writes = Writes(cur)
            times.append(time.perf_counter())
            if todo:  # the collector is off while following (see following.IdleCollector)
                self.projection.apply(conn, decode(todo), writes)
            times.append(time.perf_counter())
            behind = (
                self.chain.extend(conn, end, known=(done[0], todo), writes=writes, head=done[1:])
                < end
            )
            times.append(time.perf_counter())
            if todo:
                writes.send(*tables.announcement(end))
            else:
                writes.send()
        times.append(time.perf_counter())
        if times[-1] - times[0] > self.slow_batch_seconds:
            start, applied, chained, committed = (
                round((b - a) * 1000) for a, b in itertools.pairwise(times)
            )
            log.warning(
                "slow batch: %d events up to position %d in %d ms (start %d, apply %d, of "
                "which %d reports joined their firm in place; chain %d; last writes and commit %d)",
                len(todo),
                end,
                round((times[-1] - times[0]) * 1000),
                start,
                applied,
                self.projection.joined - joined,
                chained,
                committed,
            )
        return behind

    def _chain_step(self, conn: psycopg.Connection[Any]) -> bool:
        """Chain one step of the log the read models hold; whether the chain still trails."""
        position = tracked_position(conn)
        with conn.transaction():
            return self.chain.extend(conn, position) < position


def ensure_live_generation(conn: psycopg.Connection[Any]) -> int:
    tables.ensure_pointer(conn)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('watchlist_read_model'))")
        live = tables.live_generation(conn)
        if live is not None:
            return live
    generation = tables.create_generation(conn)
    with conn.transaction():
        conn.execute(
            f"INSERT INTO {tables.POINTER} (generation) VALUES (%s) "
            "ON CONFLICT (singleton) DO NOTHING",
            (generation,),
        )
        live = tables.live_generation(conn)
    if live != generation:
        tables.drop_generation(conn, generation)
    assert live is not None
    return live


@contextmanager
def _transaction(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Commit what the block began (``tables.begin_on_live_generation``), or roll it back,
    as psycopg's ``transaction()`` would; on an autocommit connection."""
    assert conn.autocommit, "psycopg would begin a transaction of its own"
    try:
        yield
    except BaseException:
        try:
            conn.rollback()
        except psycopg.Error as exc:  # the connection is gone: so is the transaction
            log.warning("rolling a batch back failed: %s", exc)
        raise
    conn.commit()


def tracked_position(conn: psycopg.Connection[Any]) -> int:
    with conn.transaction():
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (tables.POINTER,)).fetchone()
        if not exists or not exists[0]:
            return 0
        generation = tables.live_generation(conn)
        if generation is None:
            return 0
        tables.use_generation(conn, generation)
        row = conn.execute("SELECT position FROM tracking").fetchone()
        return int(row[0]) if row else 0


def run_in_thread(runner: ProjectorRunner) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), name="projector", daemon=True)
    thread.start()
    return thread, stop


def wait_for(predicate: Any, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
