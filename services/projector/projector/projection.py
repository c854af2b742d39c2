"""The projection: events in, read-model rows out, in the caller's transaction.

A batch of events is folded in memory first and written once, then the firms
its reports touch are resolved again and their profiles rebuilt. Private
reports shape only their own organisation's view: the 'partners' view is
built from shared reports alone, and an organisation with private reports in
a cluster gets its own rendering of that cluster, which overrides the
partners' one for it alone.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg import Connection, Cursor

from projector import entries as stored_entries
from projector import words
from projector.facts import REPORT_COLUMNS, Facts
from projector.identity import normalise_name
from projector.model import Entry, ReportState, fold
from projector.profile import packed, profile_of
from projector.resolution import resolve
from projector.risk import LEVELS
from watchlist.domain.base import DomainEvent
from watchlist.domain.report import ReportEvent, ReportSubmitted
from watchlist.domain.taxonomy import Taxonomy
from watchlist.persistence import insert_rows

PARTNERS = "partners"
# Report states the live projector keeps between batches: those of the firms it touches
# most, whose timelines it would otherwise read back and decode on every batch.
REMEMBERED_STATES = 50_000


class Projection:
    def __init__(self, taxonomy: Taxonomy, remembered: int = REMEMBERED_STATES) -> None:
        self.taxonomy = taxonomy
        self.states = StateCache(remembered)

    def apply(self, conn: Connection[Any], batch: Sequence[tuple[int, DomainEvent]]) -> None:
        """Apply events, in log order, to the generation on the connection's search_path."""
        with conn.cursor() as cur:
            dirty, fresh = self._record(cur, batch)
            if dirty:
                self._resolve(cur, dirty, fresh)
            if batch:
                cur.execute(
                    "UPDATE tracking SET position = %s, updated_at = now()", (batch[-1][0],)
                )

    # Facts: reports, keys, entries, decisions

    def _record(
        self, cur: Cursor[Any], batch: Sequence[tuple[int, DomainEvent]]
    ) -> tuple[set[UUID], dict[UUID, list[Entry]]]:
        """Write the batch's facts; return the reports and firms it touches, and the entries
        of the reports it submits (whole in memory, so they need not be read back)."""
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
        self.write_facts(cur, facts, upsert=True)
        copy_rows(cur, stored_entries.TABLE, [stored_entries.to_row(e) for e in made])
        return touched, _of_new_reports(made)

    @staticmethod
    def write_facts(cur: Cursor[Any], facts: Facts, *, upsert: bool) -> None:
        """Organisations, reports, their keys and decisions; ``upsert`` over rows the
        generation may already hold, or else (into empty tables) by COPY alone."""
        if facts.organisations:
            rows = [(o, _storable(name)) for o, name in facts.organisations.items()]
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
            if upsert:
                cur.execute(
                    "DELETE FROM report_keys WHERE report_id = ANY(%b)", (list(facts.keys),)
                )
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
        before = _Before.read(cur, ids)
        # Reports this batch submitted have all their entries in memory, and the states of
        # many others are remembered; only the rest (and the facts naming firms) are read.
        earlier = [r for r in ids if r not in fresh and r not in known]
        loaded = stored_entries.load(cur, earlier, decisions_of=ids)
        timelines = Timelines.of_entries(
            sorted([*loaded, *(e for r in fresh for e in fresh[r])], key=_position), known
        )
        self.states.remember(timelines.states.values())
        rows = Rows(before)
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
            profile = profile_of(firm_id, states, facts, self.taxonomy, last)
            rank = LEVELS.index(profile.risk.level)
            rows.firms.append(
                (
                    view,
                    firm_id,
                    profile.display_name,
                    profile.country,
                    profile.risk.level,
                    rank,
                    profile.risk.score,
                    profile.organisations,
                    packed(profile),
                    last,
                )
            )
            names = _search_names(profile.names)
            rows.names += [(view, firm_id, n) for n in names]
            rows.words += [(view, firm_id, w, rank) for w in words.words_of(names)]


class Timelines:
    """Report states and the facts recorded about firms: what firm profiles are made of.

    A report's state is folded once, whatever number of views show it.
    """

    def __init__(self, states: dict[UUID, ReportState], facts: Iterable[Entry]) -> None:
        self.states = states
        self.facts_of: dict[UUID, list[Entry]] = {}
        for fact in facts:
            for firm in {fact.firm_a, fact.firm_b}:
                if firm is not None:
                    self.facts_of.setdefault(firm, []).append(fact)

    @classmethod
    def of_entries(
        cls, entries: list[Entry], known: Mapping[UUID, ReportState] | None = None
    ) -> Timelines:
        """From timeline entries, in log order, and the states of reports already folded
        (whose entries are not among ``entries``)."""
        return cls(fold(entries) | dict(known or {}), (e for e in entries if e.report_id is None))

    def of_firm(self, members: set[UUID]) -> tuple[list[ReportState], list[Entry]]:
        """The states of a firm's reports, and the facts naming any of them, in log order."""
        states = [self.states[m] for m in members]
        facts = {f.position: f for m in members for f in self.facts_of.get(m, ())}
        return states, [facts[p] for p in sorted(facts)]


class StateCache:
    """Report states the live projector has folded, remembered between batches.

    Timeline entries are facts of the log, so a report's state as of its last entry
    is the same in every batch, transaction and generation: a remembered state is
    good whenever its last position is the report's in the read models, and is
    folded again from the entries otherwise. Remembered states are never folded
    further (a change makes a new state), and the least recently used are forgotten.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._states: OrderedDict[UUID, ReportState] = OrderedDict()

    def get(self, report_id: UUID, last_position: int) -> ReportState | None:
        state = self._states.get(report_id)
        if state is None or state.last_position != last_position:
            return None
        self._states.move_to_end(report_id)
        return state

    def remember(self, states: Iterable[ReportState]) -> None:
        for state in states:
            self._states[state.report_id] = state
            self._states.move_to_end(state.report_id)
        while len(self._states) > self.size:
            self._states.popitem(last=False)


class _Before:
    """The read-model rows a batch's cluster had before it: what the batch may keep.

    A firm whose reports and last entry are as they were is unchanged, since entries
    only ever accrue: its rows stay, and its profile is not rebuilt. Only what changed
    is deleted and written, so a new report in a firm of hundreds of reports rewrites
    its firm's rows, not every membership of every view.
    """

    def __init__(
        self,
        memberships: set[tuple[Any, ...]],
        as_of: dict[tuple[str, UUID], int],
        overridden: set[tuple[Any, ...]],
        names: set[tuple[Any, ...]],
    ) -> None:
        self.memberships, self.as_of, self.overridden = memberships, as_of, overridden
        self.names = names
        self.members: dict[tuple[str, UUID], set[UUID]] = {}
        for view, report, firm in memberships:
            self.members.setdefault((view, firm), set()).add(report)

    @classmethod
    def read(cls, cur: Cursor[Any], reports: list[UUID]) -> _Before:
        cur.execute(
            "SELECT view, report_id, firm_id FROM memberships WHERE report_id = ANY(%b)",
            (reports,),
        )
        memberships = {tuple(row) for row in cur.fetchall()}
        firms = sorted({(view, firm) for view, _, firm in memberships})
        pairs = ([v for v, _ in firms], [f for _, f in firms])
        cur.execute(
            "SELECT f.view, f.firm_id, f.as_of_position FROM firms f "
            "JOIN unnest(%b::text[], %b::uuid[]) AS k(view, firm_id) "
            "ON f.view = k.view AND f.firm_id = k.firm_id",
            pairs,
        )
        as_of = {(view, firm): position for view, firm, position in cur.fetchall()}
        cur.execute(
            "SELECT n.view, n.firm_id, n.name FROM firm_names n "
            "JOIN unnest(%b::text[], %b::uuid[]) AS k(view, firm_id) "
            "ON n.view = k.view AND n.firm_id = k.firm_id",
            pairs,
        )
        names = {tuple(row) for row in cur.fetchall()}
        # Firm ids are report ids: every partner firm of the cluster is one of its reports.
        cur.execute("SELECT view, firm_id FROM overridden WHERE firm_id = ANY(%b)", (reports,))
        return cls(memberships, as_of, {tuple(row) for row in cur.fetchall()}, names)

    def unchanged(self, view: str, firm_id: UUID, members: set[UUID], last: int) -> bool:
        key = (view, firm_id)
        return self.as_of.get(key) == last and self.members.get(key) == members


@dataclass
class Rows:
    """Read-model rows of a batch, written together: only what differs from ``before``
    (by default, an empty generation)."""

    before: _Before = field(default_factory=lambda: _Before(set(), {}, set(), set()))
    memberships: list[tuple[Any, ...]] = field(default_factory=list)
    firms: list[tuple[Any, ...]] = field(default_factory=list)
    names: list[tuple[Any, ...]] = field(default_factory=list)
    words: list[tuple[str, UUID, str, int]] = field(default_factory=list)
    overridden: list[tuple[Any, ...]] = field(default_factory=list)
    kept: set[tuple[str, UUID]] = field(default_factory=set)

    def write(self, cur: Cursor[Any], *, count_words: bool = True) -> None:
        """Write the rows; without ``count_words`` the vocabulary waits for ``words.count_all``."""
        memberships = set(self.memberships)
        _delete_pairs(
            cur,
            "memberships",
            "report_id",
            [(v, r) for v, r, _ in self.before.memberships - memberships],
        )
        copy_rows(
            cur,
            "memberships (view, report_id, firm_id)",
            sorted(memberships - self.before.memberships),
        )
        stale = sorted(set(self.before.as_of) - self.kept)
        _delete_pairs(cur, "firms", "firm_id", stale)
        copy_rows(
            cur,
            "firms (view, firm_id, display_name, country, level, level_rank, score, "
            "organisations, profile, as_of_position)",
            self.firms,
        )
        # A firm's names mostly stay when it changes: only those that come or go are written.
        names = set(self.names)
        gone = [n for n in self.before.names if (n[0], n[1]) not in self.kept and n not in names]
        if gone:
            cur.execute(
                "DELETE FROM firm_names t USING unnest(%b::text[], %b::uuid[], %b::text[]) "
                "AS n(view, firm_id, name) "
                "WHERE t.view = n.view AND t.firm_id = n.firm_id AND t.name = n.name",
                tuple(list(column) for column in zip(*gone, strict=True)),
            )
        copy_rows(
            cur,
            "firm_names (view, firm_id, name)",
            [n for n in self.names if n not in self.before.names],
        )
        words.write(cur, stale, self.words, count=count_words)
        overridden = set(self.overridden)
        _delete_pairs(cur, "overridden", "firm_id", sorted(self.before.overridden - overridden))
        copy_rows(cur, "overridden (view, firm_id)", sorted(overridden - self.before.overridden))


def _delete_pairs(
    cur: Cursor[Any], table: str, column: str, pairs: Sequence[tuple[Any, ...]]
) -> None:
    """Delete the rows of ``table`` whose (view, ``column``) is one of ``pairs``."""
    if pairs:
        cur.execute(
            f"DELETE FROM {table} t USING unnest(%b::text[], %b::uuid[]) AS p(view, id) "
            f"WHERE t.view = p.view AND t.{column} = p.id",
            ([p[0] for p in pairs], [p[1] for p in pairs]),
        )


def copy_rows(cur: Cursor[Any], table: str, rows: Sequence[Sequence[Any]]) -> None:
    """Rows into ``table`` (a name and its columns) by COPY: new rows only, many at once."""
    if rows:
        with cur.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_storable(v) if isinstance(v, str) else v for v in row])


def _storable(text: str) -> str:
    """PostgreSQL holds no U+0000 in text. The API refuses it, but a log written before it
    did must still replay: the read models show U+FFFD in its place (JSON values are made
    storable as they are encoded, by ``entries.json_text``)."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


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


def _search_names(names: Iterable[str]) -> list[str]:
    return sorted({n for n in (normalise_name(name) for name in names) if n})
