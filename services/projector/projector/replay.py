"""The whole log into an empty generation: folded in memory, written once.

The live projector renders the firms each batch touches, from what the read
models hold. Replayed that way, batch by batch, a large firm would be rendered
again in every batch that adds to it, and its timeline read back each time. A
replay instead keeps every report's state in memory, streams the timeline
entries to their table as it reads the log, and at the end renders each firm
once in every view; the secondary indexes are built after the tables are full.

It folds and renders with the live projector's own code (``Facts.add``,
``Projection.groups`` and ``Projection.render``), on the same groups of
reports, so a replay and the live read models agree row for row.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from psycopg import Connection, Cursor
from psycopg.conninfo import make_conninfo

from projector import entries as stored_entries
from projector import tables, words
from projector.facts import FIRST, ORGANISATION, SHARING, Facts
from projector.model import Entry, ReportState, fold
from projector.projection import Projection
from projector.rows import Rows, copy_rows
from projector.timelines import Timelines
from watchlist.domain.base import DomainEvent

# Firm rows rendered before they are written: a bound on memory, not a batch of the log.
FLUSH_ROWS = 20_000


class Replay:
    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.facts = Facts(reports={})
        self.states: dict[UUID, ReportState] = {}
        self.firm_facts: list[Entry] = []
        self.position = 0
        self.events = 0

    def add(self, cur: Cursor[Any], batch: Sequence[tuple[int, DomainEvent]]) -> None:
        """Fold the next events of the log in; their timeline entries go to the table now."""
        made = self.facts.add(batch)
        copy_rows(cur, stored_entries.TABLE, [stored_entries.to_row(e) for e in made])
        fold(made, self.states)
        self.firm_facts += [e for e in made if e.report_id is None]
        if batch:
            self.position = batch[-1][0]
            self.events += len(batch)

    def finish(self, cur: Cursor[Any], generation: int) -> None:
        """Write the facts, render every firm in every view, index, and record the position.

        Rendering is a pure function of what the fold holds, and the firms' rows are
        most of what a replay writes: a second process, forked with the fold in its
        memory, renders half of the groups and writes their rows on a connection of its
        own (the generation's tables are committed, and nothing reads them until the
        swap) while this one renders and writes the other half.
        """
        facts = self.facts
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

        ours, theirs = _halves(Projection.groups(reports, keys, links))
        if theirs:
            with forked(cur.connection, generation, lambda other: render(other, theirs)) as done:
                Projection.write_facts(cur, facts, upsert=False)
                render(cur, ours)
                done()
        else:  # one group or none: nothing to share
            Projection.write_facts(cur, facts, upsert=False)
            render(cur, ours)
        words.count_all(cur)
        # Each index built from the full table in one sort, rather than row by row.
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        tables.create_indexes(cur.connection)
        cur.execute("UPDATE tracking SET position = %s, updated_at = now()", (self.position,))


def _halves(groups: list[list[Any]]) -> tuple[list[list[Any]], list[list[Any]]]:
    """Groups in two halves of about as many reports each, the largest placed first."""
    halves: tuple[list[list[Any]], list[list[Any]]] = ([], [])
    sizes = [0, 0]
    for group in sorted(groups, key=len, reverse=True):
        lighter = 0 if sizes[0] <= sizes[1] else 1
        halves[lighter].append(group)
        sizes[lighter] += len(group)
    return halves


@contextmanager
def forked(
    conn: Connection[Any], generation: int, work: Callable[[Cursor[Any]], None]
) -> Iterator[Callable[[], None]]:
    """Run ``work`` in a forked process, on a connection of its own to the generation, in
    a transaction it commits; the caller goes on meanwhile and calls what this yields to
    wait for it (and fail if it failed). Left early, the child is stopped, and what it
    did not commit is rolled back with its connection.

    The child uses none of the parent's connections or threads, leaves through
    ``os._exit`` (no finalizer of an inherited object runs, so none closes a connection
    the parent still uses), and says what failed on its standard error.
    """
    conninfo = make_conninfo(conn.info.dsn, password=conn.info.password or None)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's outcome is its exit status
        status = 1
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
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
