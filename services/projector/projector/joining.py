"""A new report that joins one firm as it stands: the firm's rows changed in place.

Most of what the live projector follows is new reports about recruiters it already
knows. Resolving the whole cluster of such a report again, and rendering its firm from
every report's state, costs what the firm has grown to, on every report: hundreds of
reports for the most reported firms, in every view that shows them. Yet a new report is
its firm's latest, and resolution takes reports in log order, so when every report it
shares a key with is in one firm (in each view that sees it) it joins that firm and
changes nothing else: its membership, the firm's profile with it added
(``profile.joined``), the names and words it brings.

Anything else goes the long way (``Projection._resolve``): a report that would join two
firms, or whose keys reach a private view that does not yet show its firm, a private
report, one that shares a key with another report of its batch, and every batch with
another kind of event. Both ways write the same rows, so a replay still agrees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Cursor

from projector import words
from projector.facts import SHARING
from projector.model import PARTNERS, Entry, ReportState, fold
from projector.profile import Profile, joined, packed, profile_of, stored_profile
from projector.risk import LEVELS
from projector.rows import FIRM_TEXTS, FIRMS, MEMBERSHIPS, Rows, WrittenProfiles, firm_texts
from projector.writing import Writes, copy_rows
from watchlist.domain.taxonomy import Taxonomy


@dataclass
class _Joining:
    state: ReportState
    firms: dict[str, UUID]  # the firm it joins in each view that sees it
    alone: str | None = None  # or the view in which it is a firm of its own


def join(
    cur: Cursor[Any],
    reports: Mapping[UUID, Sequence[Any]],
    fresh: Mapping[UUID, list[Entry]],
    keys: Mapping[UUID, Iterable[str]],
    taxonomy: Taxonomy,
    written: WrittenProfiles,
    writes: Writes,
) -> list[ReportState]:
    """Add the batch's new reports that join one firm (or make their own) to the read
    models, and return their states. ``reports`` are the batch's report rows, ``fresh``
    the entries of the reports it submitted: a batch of submissions and nothing else.
    ``keys`` are the match keys of the batch's reports. The rows of the firms they join
    or start go into ``writes``.

    One query whatever the batch, its writes sent with the batch's others: this is the
    projector's busiest path, and a round trip to the database costs more than the
    Python of a report."""
    states = fold(e for r in fresh for e in fresh[r])
    # A NUL typed before the API refused it is stored as U+FFFD: compared with what the
    # read models hold, it would no longer equal itself. Such a report goes the long way.
    typed = [r for r, s in states.items() if b"\\u0000" not in msgspec.json.encode(s.content)]
    private = {r: str(states[r].organisation_id) for r in typed if reports[r][SHARING] != PARTNERS}
    joining, reached = _joining(cur, typed, states, private, keys) if typed else ([], {})
    targets: dict[tuple[str, UUID], UUID] = {}  # each firm joined, and by which organisation
    for j in joining:
        for pair in j.firms.items():
            targets.setdefault(pair, j.state.organisation_id)
    stored = _stored(joining, reached, written)
    new_firms = Rows(written=written)
    changed = _Changes()
    done: list[ReportState] = []
    for j in joining:
        state, found = j.state, []
        for view, firm in j.firms.items():
            if (
                (view, firm) in changed.taken
                or (view, firm) not in stored
                or targets[view, firm] != state.organisation_id
            ):
                break  # another report of the batch joins it too: the long way for this one
            profile, counted = stored[view, firm]
            after = joined(
                profile,
                state,
                taxonomy,
                organisation_counted=counted,
                as_of_position=state.last_position,
            )
            if after is None:
                break
            found.append((view, profile, after))
        else:
            if j.alone is not None:
                new_firms.memberships.append((j.alone, state.report_id, state.report_id))
                new_firms.add_firm(
                    j.alone,
                    profile_of(state.report_id, [state], [], taxonomy, state.last_position),
                )
            for view, profile, after in found:
                changed.add(view, state.report_id, profile, after)
            done.append(state)
    changed.write(writes, written, new_firms)
    return done


class _Changes:
    """Firms that reports joined: each row changed in place, only where it changes."""

    def __init__(self) -> None:
        self.taken: set[tuple[str, UUID]] = set()
        self.memberships: list[tuple[str, UUID, UUID]] = []
        self.firms: list[tuple[Any, ...]] = []
        self.profiles: list[tuple[tuple[str, UUID], Profile, int]] = []
        self.texts: dict[str, list[tuple[str, UUID, str]]] = {table: [] for table in FIRM_TEXTS}
        self.words: list[tuple[str, UUID, str, int]] = []
        self.ranks: list[tuple[str, UUID, int]] = []

    def add(self, view: str, report: UUID, before: Profile, after: Profile) -> None:
        firm = after.firm_id
        self.taken.add((view, firm))
        self.memberships.append((view, report, firm))
        rank, stored = LEVELS.index(after.risk.level), packed(after)
        risk, position = after.risk, after.as_of_position
        self.firms.append(
            (view, firm, risk.level, rank, risk.score, after.organisations, stored, position)
        )
        self.profiles.append(((view, firm), after, len(stored)))
        # A report joining adds names and keys, never takes one away.
        had, has = firm_texts(before), firm_texts(after)
        for table, found in has.items():
            known = set(had[table])
            self.texts[table] += [(view, firm, text) for text in found if text not in known]
        old = set(words.words_of(had["firm_names"]))
        self.words += [
            (view, firm, w, rank) for w in words.words_of(has["firm_names"]) if w not in old
        ]
        if rank != LEVELS.index(before.risk.level):
            self.ranks.append((view, firm, rank))

    def write(self, writes: Writes, written: WrittenProfiles, new: Rows) -> None:
        """Into ``writes``, one statement with the batch's other last writes: each firm joined
        is changed once, and what a report joining adds no other write touches. With them
        the rows of the firms that reports start (``new``): inserts alone, since no firm
        held those reports; their words counted with the others', since one statement may
        not change a vocabulary row twice."""
        assert not new.overridden, "a firm a report starts overrides none"
        assert not new.before.as_of, "a firm a report starts replaces none"
        copy_rows(writes, MEMBERSHIPS, self.memberships + new.memberships)
        if self.firms:
            columns = list(zip(*self.firms, strict=True))
            writes.execute(
                "UPDATE firms f SET level = c.level, level_rank = c.level_rank, score = c.score, "
                "organisations = c.organisations, profile = c.profile, "
                "as_of_position = c.as_of_position FROM unnest(%b::text[], %b::uuid[], %b::text[], "
                "%b::smallint[], %b::float8[], %b::int[], %b::bytea[], %b::bigint[]) "
                "AS c(view, firm_id, level, level_rank, score, organisations, profile, "
                "as_of_position) WHERE f.view = c.view AND f.firm_id = c.firm_id",
                [list(column) for column in columns],
            )
        copy_rows(writes, FIRMS, new.firms)
        for table, column in FIRM_TEXTS.items():
            rows = self.texts[table] + new.texts[table]
            copy_rows(writes, f"{table} (view, firm_id, {column})", rows)
        words.rank(writes, self.ranks)
        words.write(writes, [], self.words + new.words, count=True)
        for key, profile, size in self.profiles:
            written.put(key, profile, size)
        new.remember()


def _joining(
    cur: Cursor[Any],
    reports: list[UUID],
    states: dict[UUID, ReportState],
    private: dict[UUID, str],
    keys: Mapping[UUID, Iterable[str]],
) -> tuple[list[_Joining], dict[tuple[UUID, str], _Found]]:
    """The reports that join one firm in each view that sees them, or make their own:
    a shared report in the partners' view and every view that overrides its firm there;
    a private one (``private`` names its organisation's view) in that view alone. And,
    in the same statement, the firm each report reaches alone in a view, as stored.

    ``keys`` are the batch's reports' match keys, not yet written: the reports of the
    batch are in no firm, so one that shares a key with another of them goes the long way.
    """
    rows = [(r, k) for r in reports for k in keys.get(r, ())]
    holders: dict[str, set[UUID]] = {}
    for report, batch_keys in keys.items():
        for key in batch_keys:
            holders.setdefault(key, set()).add(report)
    held_back = {r for held in holders.values() if len(held) > 1 for r in held}
    cur.execute(
        "WITH k1 AS (SELECT * FROM unnest(%b::uuid[], %b::text[]) AS k1(report_id, key)), "
        "b AS (SELECT * FROM unnest(%b::uuid[], %b::uuid[]) AS b(report_id, organisation_id)), "
        # Each report reached once, however many of its keys reach it.
        "s AS (SELECT DISTINCT k1.report_id, k2.report_id AS other FROM k1 "
        "  JOIN report_keys k2 ON k2.key = k1.key AND k2.report_id <> k1.report_id), "
        "reach AS (SELECT s.report_id, m.view, array_agg(DISTINCT m.firm_id) AS firms "
        "  FROM s LEFT JOIN LATERAL (SELECT m.view, m.firm_id FROM memberships m "
        "    WHERE m.report_id = s.other OFFSET 0) m ON true "
        "  GROUP BY s.report_id, m.view) "
        "SELECT r.report_id, r.view, r.firms, "
        "  CASE WHEN r.view = 'partners' AND cardinality(r.firms) = 1 "
        "  THEN ARRAY(SELECT o.view FROM overridden o WHERE o.firm_id = r.firms[1]) END, "
        "  f.as_of_position, f.profile, "
        "  f.firm_id IS NOT NULL AND EXISTS (SELECT FROM memberships m "
        "    JOIN reports o ON o.report_id = m.report_id WHERE m.view = f.view "
        "    AND m.firm_id = f.firm_id AND o.organisation_id = b.organisation_id "
        "    AND o.status = 'active') "
        "FROM reach r JOIN b ON b.report_id = r.report_id "
        "LEFT JOIN firms f ON cardinality(r.firms) = 1 AND f.view = r.view "
        "  AND f.firm_id = r.firms[1]",
        (
            [r for r, _ in rows],
            [k for _, k in rows],
            reports,
            [states[r].organisation_id for r in reports],
        ),
    )
    reach: dict[UUID, dict[str, set[UUID]]] = {r: {} for r in reports}
    overriding: dict[UUID, set[str]] = {}
    found: dict[tuple[UUID, str], _Found] = {}
    for report, view, firms, overriders, as_of, profile, counted in cur.fetchall():
        if view is None:
            held_back.add(report)
        else:
            reach[report][view] = set(firms)
        if overriders is not None:
            overriding[report] = set(overriders)
        if as_of is not None:
            found[report, view] = _Found(as_of, profile, counted)
    joining = []
    for report in reports:
        if report in held_back:
            continue
        own = private.get(report)
        joins = (
            _shared(states[report], reach[report], overriding.get(report))
            if own is None
            else _private(states[report], reach[report], overriding.get(report), own)
        )
        if joins is not None:
            joining.append(joins)
    return joining, found


@dataclass
class _Found:
    """A firm a report reaches alone in a view, as stored: whether the report's organisation
    has an active report in it already."""

    as_of_position: int
    profile: bytes
    counted: bool


def _shared(
    state: ReportState, views: dict[str, set[UUID]], overriders: set[str] | None
) -> _Joining | None:
    """A shared report joins one firm in the partners' view and in each view overriding it."""
    if not views:  # no other report has its keys
        return _Joining(state, {}, alone=PARTNERS)
    if overriders is None or set(views) != {PARTNERS, *overriders}:
        return None  # two firms, only private reports, or a view that would begin to override
    if any(len(firms) != 1 for firms in views.values()):
        return None
    return _Joining(state, {view: next(iter(firms)) for view, firms in views.items()})


def _private(
    state: ReportState, views: dict[str, set[UUID]], overriders: set[str] | None, own: str
) -> _Joining | None:
    """A private report joins one firm in its organisation's view alone: the other views
    do not see it."""
    partner_firms, mine = views.get(PARTNERS, set()), views.get(own, set())
    if partner_firms and (overriders is None or own not in overriders):
        return None  # two firms, or its organisation's view would begin to override one
    if not partner_firms and not mine:  # only other organisations' private reports, or none
        return _Joining(state, {}, alone=own)
    if len(mine) != 1:
        return None
    return _Joining(state, {own: next(iter(mine))})


def _stored(
    joining: list[_Joining], found: Mapping[tuple[UUID, str], _Found], written: WrittenProfiles
) -> dict[tuple[str, UUID], tuple[Profile, bool]]:
    """The profiles of the firms joined (as this projector wrote them, where it remembers
    them as stored), and whether the organisation of the first report joining each has an
    active report in it; each as the first report joining it found it."""
    stored: dict[tuple[str, UUID], tuple[Profile, bool]] = {}
    for j in joining:
        for view, firm in j.firms.items():
            if (view, firm) in stored:
                continue
            seen = found.get((j.state.report_id, view))
            if seen is None:  # no row: the long way will tell
                continue
            remembered = written.get((view, firm))
            if remembered is None or remembered.as_of_position != seen.as_of_position:
                remembered = stored_profile(seen.profile)
            stored[view, firm] = remembered, seen.counted
    return stored
