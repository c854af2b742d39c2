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

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor

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

    def finish(self, cur: Cursor[Any]) -> None:
        """Write the facts, render every firm in every view, index, and record the position."""
        facts = self.facts
        Projection.write_facts(cur, facts, upsert=False)
        decisions = sorted(facts.decisions.items(), key=lambda item: item[1][1])
        links = [pair for pair, (kind, _) in decisions if kind == "linked"]
        separations = [pair for pair, (kind, _) in decisions if kind == "separated"]
        reports = [
            (r, row[ORGANISATION], row[SHARING], row[FIRST]) for r, row in facts.reports.items()
        ]
        keys = {r: sorted(found) for r, found in facts.keys.items()}
        timelines = Timelines(self.states, self.firm_facts)
        rows = Rows()
        for group in Projection.groups(reports, keys, links):
            self.projection.render(group, keys, links, separations, timelines, rows)
            if len(rows.firms) >= FLUSH_ROWS:
                rows.write(cur, count_words=False)
                rows = Rows()
        rows.write(cur, count_words=False)
        words.count_all(cur)
        # Each index built from the full table in one sort, rather than row by row.
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        tables.create_indexes(cur.connection)
        cur.execute("UPDATE tracking SET position = %s, updated_at = now()", (self.position,))
