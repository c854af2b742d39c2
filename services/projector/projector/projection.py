"""The projection: events in, read-model rows out, in the caller's transaction.

A batch of events is folded in memory first and written once, then the firms
its reports touch are resolved again and their profiles rebuilt. Private
reports shape only their own organisation's view: the 'partners' view is
built from shared reports alone, and an organisation with private reports in
a cluster gets its own rendering of that cluster, which overrides the
partners' one for it alone. New reports that join one firm as it stands are
added to it in place first (``joining``); the rest go this way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from psycopg import Connection, Cursor

from projector import entries as stored_entries
from projector import joining
from projector.facts import REPORT_COLUMNS, Facts
from projector.model import PARTNERS, Entry
from projector.profile import profile_of
from projector.resolution import resolve
from projector.rows import Before, Rows, WrittenProfiles
from projector.timelines import StateCache, Timelines
from projector.writing import Writes, copy_rows, storable
from watchlist.domain.base import DomainEvent
from watchlist.domain.report import ReportEvent, ReportSubmitted
from watchlist.domain.taxonomy import Taxonomy
from watchlist.persistence import insert_rows

# Report states the live projector keeps between batches: those of the firms it touches
# most, whose timelines it would otherwise read back and decode on every batch.
REMEMBERED_STATES = 50_000


class Projection:
    def __init__(self, taxonomy: Taxonomy, remembered: int = REMEMBERED_STATES) -> None:
        self.taxonomy = taxonomy
        self.states = StateCache(remembered)
        self.written = WrittenProfiles()
        self.joined = 0  # new reports added to their firm as it stood (see joining.py)

    def apply(
        self,
        conn: Connection[Any],
        batch: Sequence[tuple[int, DomainEvent]],
        writes: Writes | None = None,
    ) -> None:
        """Apply events, in log order, to the generation on the connection's search_path.

        The batch's facts and last writes (reports joining their firm, the tracking
        position) go into ``writes`` if given, for the caller to send with its own (the
        long way sends them before it reads); or else are sent before this returns."""
        with conn.cursor() as cur:
            last = Writes(cur) if writes is None else writes
            dirty, fresh, facts = self._record(cur, batch, last)
            if dirty and all(isinstance(e, ReportSubmitted) for _, e in batch):
                added = joining.join(
                    cur, facts.reports, fresh, facts.keys, self.taxonomy, self.written, last
                )
                self.states.remember(added)
                self.joined += len(added)
                dirty -= {state.report_id for state in added}
            if dirty:
                last.send()  # the long way reads the facts, and the firms the others joined
                self._resolve(cur, dirty, fresh)
            if batch:
                last.execute(
                    "UPDATE tracking SET position = %s, updated_at = now()", (batch[-1][0],)
                )
            if writes is None:
                last.send()

    # Facts: reports, keys, entries, decisions

    def _record(
        self, cur: Cursor[Any], batch: Sequence[tuple[int, DomainEvent]], last: Writes
    ) -> tuple[set[UUID], dict[UUID, list[Entry]], Facts]:
        """Gather the batch's facts into ``last``; return the reports and firms it touches,
        the entries of the reports it submits (whole in memory, so they need not be read
        back), and the facts: the rows of the reports it changes, with their keys."""
        facts = Facts(reports=_changed_reports(cur, batch))
        earlier = set(facts.reports)
        made = facts.add(batch)
        touched = facts.named_firms | set(facts.reports)
        # An amendment may drop a key that was all that held other reports where they were
        # (first holder of a key that separations kept the later holders from joining
        # through): they are resolved again too, found by the keys about to be replaced.
        rekeyed = [r for r in facts.keys if r in earlier]
        if rekeyed:
            cur.execute(
                "SELECT DISTINCT k2.report_id FROM report_keys k1 JOIN report_keys k2 "
                "ON k2.key = k1.key WHERE k1.report_id = ANY(%b)",
                (rekeyed,),
            )
            touched |= {row[0] for row in cur.fetchall()}
            # Before the keys are written again: one statement may not both delete a row
            # and insert its like.
            cur.execute("DELETE FROM report_keys WHERE report_id = ANY(%b)", (rekeyed,))
        # The facts go with the batch's last writes: what reads them sends them first.
        self.write_facts(last, facts, upsert=True)
        copy_rows(last, stored_entries.TABLE, [stored_entries.to_row(e) for e in made])
        return touched, _of_new_reports(made), facts

    @staticmethod
    def write_facts(cur: Cursor[Any] | Writes, facts: Facts, *, upsert: bool) -> None:
        """Organisations, reports, their keys and decisions; ``upsert`` over rows the
        generation may already hold (the keys of reports whose keys change deleted
        first), or else (into empty tables) by COPY alone."""
        if facts.organisations:
            rows = [(o, storable(name)) for o, name in facts.organisations.items()]
            if upsert:
                cur.execute(
                    *insert_rows(
                        "organisations",
                        [("organisation_id", "uuid"), ("name", "text")],
                        rows,
                        "ON CONFLICT (organisation_id) DO UPDATE SET name = excluded.name",
                    )
                )
            else:
                copy_rows(cur, "organisations (organisation_id, name)", rows)
        if facts.reports:
            if upsert:
                cur.execute(
                    *insert_rows(
                        "reports",
                        REPORT_COLUMNS,
                        list(facts.reports.values()),
                        "ON CONFLICT (report_id) DO UPDATE SET sharing = excluded.sharing, "
                        "status = excluded.status, version = excluded.version, "
                        "last_position = excluded.last_position",
                    )
                )
            else:
                columns = ", ".join(name for name, _ in REPORT_COLUMNS)
                copy_rows(cur, f"reports ({columns})", list(facts.reports.values()))
        if facts.keys:
            copy_rows(cur, "report_keys (report_id, key)", facts.key_rows())
        if facts.decisions:
            if upsert:
                cur.execute(
                    *insert_rows(
                        "decisions",
                        [("a", "uuid"), ("b", "uuid"), ("kind", "text"), ("position", "bigint")],
                        facts.decision_rows(),
                        "ON CONFLICT (a, b) DO UPDATE SET kind = excluded.kind, "
                        "position = excluded.position",
                    )
                )
            else:
                copy_rows(cur, "decisions (a, b, kind, position)", facts.decision_rows())

    # Conclusions: firms

    def _cluster(self, cur: Cursor[Any], seeds: set[UUID]) -> set[UUID]:
        """Every report connected to ``seeds`` by keys or links, with their former firm-mates.

        A breadth-first walk in which each key and each report is expanded once: joining
        every report's keys to every other report's keys would cost the square of a
        large firm's size on every batch that touches it.
        """
        cur.execute(
            "SELECT DISTINCT m2.report_id FROM memberships m1 JOIN memberships m2 "
            "ON m1.view = m2.view AND m1.firm_id = m2.firm_id WHERE m1.report_id = ANY(%b)",
            (list(seeds),),
        )
        found = seeds | {row[0] for row in cur.fetchall()}
        frontier, seen_keys = set(found), set[str]()
        while frontier:
            ids = list(frontier)
            cur.execute("SELECT DISTINCT key FROM report_keys WHERE report_id = ANY(%b)", (ids,))
            new_keys = [row[0] for row in cur.fetchall() if row[0] not in seen_keys]
            seen_keys.update(new_keys)
            cur.execute(
                "SELECT DISTINCT report_id FROM report_keys WHERE key = ANY(%b)", (new_keys,)
            )
            reached = {row[0] for row in cur.fetchall()}
            cur.execute(
                "SELECT a, b FROM decisions WHERE kind = 'linked' AND (a = ANY(%b) OR b = ANY(%b))",
                (ids, ids),
            )
            reached |= {r for row in cur.fetchall() for r in row}
            frontier = reached - found
            found |= frontier
        return found

    def _resolve(self, cur: Cursor[Any], seeds: set[UUID], fresh: dict[UUID, list[Entry]]) -> None:
        cluster = self._cluster(cur, seeds)
        ids = list(cluster)
        cur.execute(
            "SELECT report_id, organisation_id, sharing, first_position, last_position "
            "FROM reports WHERE report_id = ANY(%b)",
            (ids,),
        )
        found = cur.fetchall()
        reports = [row[:4] for row in found]
        known = {
            row[0]: state
            for row in found
            if row[0] not in fresh and (state := self.states.get(row[0], row[4])) is not None
        }
        cur.execute("SELECT report_id, key FROM report_keys WHERE report_id = ANY(%b)", (ids,))
        keys: dict[UUID, list[str]] = {}
        for report_id, key in cur.fetchall():
            keys.setdefault(report_id, []).append(key)
        for found in keys.values():
            found.sort()
        cur.execute(
            "SELECT a, b, kind FROM decisions WHERE a = ANY(%b) OR b = ANY(%b) ORDER BY position",
            (ids, ids),
        )
        decisions = cur.fetchall()
        links = [(a, b) for a, b, kind in decisions if kind == "linked"]
        separations = [(a, b) for a, b, kind in decisions if kind == "separated"]
        before = Before.read(cur, ids)
        # Reports this batch submitted have all their entries in memory, and the states of
        # many others are remembered; only the rest (and the facts naming firms) are read.
        earlier = [r for r in ids if r not in fresh and r not in known]
        loaded = stored_entries.load(cur, earlier, decisions_of=ids)
        timelines = Timelines.of_entries(
            sorted([*loaded, *(e for r in fresh for e in fresh[r])], key=_position), known
        )
        self.states.remember(timelines.states.values())
        rows = Rows(before, written=self.written)
        for group in self.groups(reports, keys, links):
            self.render(group, keys, links, separations, timelines, rows)
        rows.write(cur)

    @staticmethod
    def groups(
        reports: Sequence[tuple[Any, ...]],
        keys: Mapping[UUID, Sequence[str]],
        links: Sequence[tuple[UUID, UUID]],
    ) -> list[list[tuple[Any, ...]]]:
        """Reports (report id, organisation, sharing, first position) in connected groups,
        by keys (each report's, sorted) and links. Each group is rendered on its own, so
        that what a batch holds together never changes which views render what."""
        everything = resolve([(r, pos) for r, _, _, pos in reports], keys, links, [])
        groups: dict[UUID, list[tuple[Any, ...]]] = {}
        for row in reports:
            groups.setdefault(everything[row[0]], []).append(row)
        return list(groups.values())

    def render(
        self,
        group: list[tuple[Any, ...]],
        keys: Mapping[UUID, Sequence[str]],
        links: Sequence[tuple[UUID, UUID]],
        separations: Sequence[tuple[UUID, UUID]],
        timelines: Timelines,
        rows: Rows,
    ) -> None:
        """Firms of one connected group of reports, in every view that sees it differently.

        ``links`` and ``separations`` are pairs of report ids, in decision order."""
        private_owners = sorted({str(org) for _, org, sharing, _ in group if sharing == "private"})
        partner_firms: set[UUID] = set()
        for view in [PARTNERS, *private_owners]:
            visible = [
                (r, pos)
                for r, org, sharing, pos in group
                if sharing == "partners" or str(org) == view
            ]
            firm_of = resolve(visible, keys, links, separations)
            self._view_rows(view, firm_of, timelines, rows)
            if view == PARTNERS:
                partner_firms = set(firm_of.values())
            else:
                rows.overridden += [(view, f) for f in sorted(partner_firms)]

    def _view_rows(
        self, view: str, firm_of: dict[UUID, UUID], timelines: Timelines, rows: Rows
    ) -> None:
        rows.memberships += [(view, r, f) for r, f in firm_of.items()]
        members: dict[UUID, set[UUID]] = {}
        for report, firm in firm_of.items():
            members.setdefault(firm, set()).add(report)
        for firm_id in sorted(members, key=_uuid_order):
            states, facts = timelines.of_firm(members[firm_id])
            last = max([s.last_position for s in states] + [f.position for f in facts])
            if rows.before.unchanged(view, firm_id, members[firm_id], last):
                rows.kept.add((view, firm_id))
                continue
            rows.add_firm(view, profile_of(firm_id, states, facts, self.taxonomy, last))


def _changed_reports(
    cur: Cursor[Any], batch: Sequence[tuple[int, DomainEvent]]
) -> dict[UUID, list[Any]]:
    """Rows of the reports that the batch changes after their submission, as they stand."""
    changed = [
        e.originator_id
        for _, e in batch
        if isinstance(e, ReportEvent) and not isinstance(e, ReportSubmitted)
    ]
    if not changed:
        return {}
    cur.execute(
        "SELECT report_id, organisation_id, sharing, status, version, "
        "first_position, last_position FROM reports WHERE report_id = ANY(%b)",
        (changed,),
    )
    return {row[0]: list(row) for row in cur.fetchall()}


def _of_new_reports(entries: list[Entry]) -> dict[UUID, list[Entry]]:
    """The entries of each report submitted among ``entries``: all it has so far."""
    fresh: dict[UUID, list[Entry]] = {}
    for entry in entries:
        if entry.report_id is None:
            continue
        if entry.kind == "submitted":
            fresh[entry.report_id] = [entry]
        elif entry.report_id in fresh:
            fresh[entry.report_id].append(entry)
    return fresh


def _uuid_order(value: UUID) -> int:
    return value.int


def _position(entry: Entry) -> int:
    return entry.position
