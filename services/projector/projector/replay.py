"""The whole log into an empty generation: folded in memory, written once.

The live projector renders the firms each batch touches, from what the read
models hold. Replayed that way, batch by batch, a large firm would be rendered
again in every batch that adds to it, and its timeline read back each time. A
replay instead keeps every report's state in memory, streams the timeline
entries to their table as it reads the log, and at the end renders each firm
once in every view, in two processes; the primary keys and the secondary indexes
are built after the tables are full.

It folds and renders with the live projector's own code (``Facts.add``,
``Projection.groups`` and ``Projection.render``), on the same groups of
reports, so a replay and the live read models agree row for row.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from queue import Queue
from typing import Any
from uuid import UUID

import psycopg
from psycopg import Connection, Copy, Cursor
from psycopg.abc import Buffer
from psycopg.conninfo import make_conninfo
from psycopg.copy import LibpqWriter

from projector import entries as stored_entries
from projector import identity, tables, words
from projector.facts import FIRST, ORGANISATION, SHARING, Facts, typed
from projector.model import Entry, ReportState, fold
from projector.projection import Projection
from projector.rows import Rows
from projector.timelines import Timelines
from projector.writing import write_rows
from watchlist.domain.base import DomainEvent
from watchlist.domain.contract import ReportContent

# Firm rows rendered before they are written: a bound on memory, not a batch of the log.
FLUSH_ROWS = 20_000
# The forked renderer's share of the reports. It also writes the reports' facts, which
# cost about as much as rendering a sixth of the firms (measured at a million reports):
# each process then has about as much to do.
FORKED_SHARE = (1 - 1 / 6) / 2
# Buffers of COPY data (about 32 KB each) waiting for the server: 256 MB at most.
ENTRIES_QUEUED = 8192


class _QueuedWriter(LibpqWriter):
    """A COPY's data sent to the server by a thread of its own, up to ``ENTRIES_QUEUED``
    buffers behind the rows written (psycopg's ``QueuedLibpqWriter`` holds 1,024, less
    than a batch of the log's entries)."""

    def __init__(self, cursor: Cursor[Any]) -> None:
        super().__init__(cursor)
        self._queue: Queue[Buffer | None] = Queue(maxsize=ENTRIES_QUEUED)
        self._error: BaseException | None = None
        self._sender = threading.Thread(target=self._send, name="replay-entries", daemon=True)
        self._sender.start()

    def _send(self) -> None:
        try:
            while (data := self._queue.get()) is not None:
                super().write(data)
        except BaseException as exc:
            self._error = exc
            while self._queue.get() is not None:  # or write() would wait forever
                pass

    def write(self, data: Buffer) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(data)

    def finish(self, exc: BaseException | None = None) -> None:
        self._queue.put(None)
        self._sender.join()
        if self._error is not None:
            raise self._error
        super().finish(exc)


@contextmanager
def entries_copy(cur: Cursor[Any]) -> Iterator[Copy]:
    """One COPY into the entries table for the whole fold, sent by a thread of its own.

    PostgreSQL parses each entry's content into ``jsonb``, which is slower than the fold
    makes the rows: written batch by batch, the fold waited on every batch's COPY (at a
    million events, 15 s of the 24 it spent there). Queued, the server takes them in
    while the next batches are read and folded.
    """
    with cur.copy(f"COPY {stored_entries.TABLE} FROM STDIN", writer=_QueuedWriter(cur)) as copy:
        yield copy


def _own_signals() -> None:  # pragma: no cover - runs in a forked process
    # The parent's handlers may only set a flag (`watchlist projector` stops that way): a
    # forked helper stops when it is told to, or with a Ctrl-C at the terminal.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _keys_of(items: list[tuple[str, str, str]]) -> list[str | None]:
    return [identity.match_key(*item) for item in items]


class Keys:
    """Reports' match keys, found in a second process while the log is folded.

    Finding a key (parsing a phone number, folding a name) costs more than anything else
    the fold does per report, and a replay needs the keys only once the fold is done,
    to group the reports into firms. Each distinct thing typed is numbered as the fold
    meets it and sent, a batch at a time, to a process forked before the fold starts;
    a report keeps its things' numbers, and ``found`` turns them into keys at the end.
    """

    def __init__(self) -> None:
        self.numbers: dict[UUID, list[int]] = {}
        self._seen: dict[tuple[str, str, str], int] = {}
        self._new: list[tuple[str, str, str]] = []
        self._sent: list[Future[list[str | None]]] = []
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=get_context("fork"), initializer=_own_signals
        )
        # Forked now, before the fold starts its reader and writer threads.
        self._pool.submit(int).result()

    def __call__(self, rid: UUID, content: ReportContent) -> None:
        seen, numbers = self._seen, []
        for item in typed(content):
            number = seen.get(item)
            if number is None:
                number = seen[item] = len(seen)
                self._new.append(item)
            numbers.append(number)
        self.numbers[rid] = numbers

    def send(self) -> None:
        """What the fold met since the last call, to the second process."""
        if self._new:
            self._sent.append(self._pool.submit(_keys_of, self._new))
            self._new = []

    def found(self) -> dict[UUID, set[str]]:
        """Every report's keys, once the second process has found them all."""
        self.send()
        keys = [k for sent in self._sent for k in sent.result()]
        self.close()
        # Rendering looks the keys up again (a profile lists its identifiers with their
        # keys, a firm's names are searched folded): it finds them known.
        identity.learn(zip(self._seen, keys, strict=True))
        numbers, self.numbers, self._seen, self._sent = self.numbers, {}, {}, []
        return {rid: {k for n in found if (k := keys[n])} for rid, found in numbers.items()}

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class Replay:
    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.keys = Keys()
        self.facts = Facts(reports={}, find_keys=self.keys)
        self.states: dict[UUID, ReportState] = {}
        self.firm_facts: list[Entry] = []
        self.position = 0
        self.events = 0

    def add(self, entries: Copy, batch: Sequence[tuple[int, DomainEvent]]) -> None:
        """Fold the next events of the log in; their timeline entries go to ``entries``, a
        COPY into the entries table (see ``entries_copy``)."""
        made = self.facts.add(batch)
        write_rows(entries, [stored_entries.to_row(e) for e in made])
        self.keys.send()
        fold(made, self.states)
        self.firm_facts += [e for e in made if e.report_id is None]
        if batch:
            self.position = batch[-1][0]
            self.events += len(batch)

    def finish(self, cur: Cursor[Any], generation: int) -> None:
        """Write the facts, render every firm in every view, index, and record the position.

        Rendering is a pure function of what the fold holds, and the firms' rows are
        most of what a replay writes: a second process, forked with the fold in its
        memory, writes the facts and renders part of the groups, on a connection of its
        own (the generation's tables are committed, and nothing reads them until the
        swap), while this one renders the rest.
        """
        facts = self.facts
        facts.keys = self.keys.found()
        decisions = sorted(facts.decisions.items(), key=lambda item: item[1][1])
        links = [pair for pair, (kind, _) in decisions if kind == "linked"]
        separations = [pair for pair, (kind, _) in decisions if kind == "separated"]
        reports = [
            (r, row[ORGANISATION], row[SHARING], row[FIRST]) for r, row in facts.reports.items()
        ]
        keys = {r: sorted(found) for r, found in facts.keys.items()}
        timelines = Timelines(self.states, self.firm_facts)

        def render(into: Cursor[Any], groups: list[list[tuple[Any, ...]]]) -> None:
            rows = Rows()
            for group in groups:
                self.projection.render(group, keys, links, separations, timelines, rows)
                if len(rows.firms) >= FLUSH_ROWS:
                    rows.write(into, count_words=False)
                    rows = Rows()
            rows.write(into, count_words=False)

        def write_and_render(into: Cursor[Any], groups: list[list[tuple[Any, ...]]]) -> None:
            Projection.write_facts(into, facts, upsert=False)
            render(into, groups)

        ours, theirs = _shares(Projection.groups(reports, keys, links), FORKED_SHARE)
        if theirs:
            with forked(cur.connection, generation, lambda o: write_and_render(o, theirs)) as done:
                render(cur, ours)
                done()
        else:  # one group or none: nothing to share
            write_and_render(cur, ours)
        words.count_all(cur)
        # Each index built from the full table in one sort, rather than row by row; at a
        # million reports the largest sorts take a fifth less time in 1 GB than in 256 MB.
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        tables.create_indexes(cur.connection)
        cur.execute("UPDATE tracking SET position = %s, updated_at = now()", (self.position,))


def _shares(groups: list[list[Any]], second: float) -> tuple[list[list[Any]], list[list[Any]]]:
    """Groups in two shares, the second holding about ``second`` of the reports; the
    largest groups are placed first, each where its share is furthest from its due."""
    shares: tuple[list[list[Any]], list[list[Any]]] = ([], [])
    due, sizes = (1 - second, second), [0, 0]
    for group in sorted(groups, key=len, reverse=True):
        side = 0 if sizes[0] / due[0] <= sizes[1] / due[1] else 1
        shares[side].append(group)
        sizes[side] += len(group)
    return shares


@contextmanager
def forked(
    conn: Connection[Any], generation: int, work: Callable[[Cursor[Any]], None]
) -> Iterator[Callable[[], None]]:
    """Run ``work`` in a forked process, on a connection of its own to the generation, in
    a transaction it commits; the caller goes on meanwhile and calls what this yields to
    wait for it (and fail if it failed). Left early, the child is killed (it may not
    have dropped the parent's signal handlers yet), and what it did not commit is rolled
    back with its connection.

    The child uses none of the parent's connections or threads, leaves through
    ``os._exit`` (no finalizer of an inherited object runs, so none closes a connection
    the parent still uses), and says what failed on its standard error.
    """
    conninfo = make_conninfo(conn.info.dsn, password=conn.info.password or None)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's outcome is its exit status
        status = 1
        _own_signals()
        try:
            with psycopg.connect(conninfo) as own, own.cursor() as cur:
                tables.use_generation(own, generation)
                work(cur)
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(status)
    waited = False

    def wait() -> None:
        nonlocal waited
        _, status = os.waitpid(pid, 0)
        waited = True
        if status != 0:
            raise RuntimeError(f"the replay's second renderer failed (wait status {status})")

    try:
        yield wait
    finally:
        if not waited:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
