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

from collections.abc import Mapping, Sequence
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
from projector.rows import FIRM_TEXTS, Rows, WrittenProfiles, firm_texts
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
    taxonomy: Taxonomy,
    written: WrittenProfiles,
    writes: Writes,
) -> list[ReportState]:
    """Add the batch's new reports that join one firm (or make their own) to the read
    models, and return their states. ``reports`` are the batch's report rows, ``fresh``
    the entries of the reports it submitted: a batch of submissions and nothing else.
    The rows of the firms they join go into ``writes``; those of new firms at once.

    A few statements whatever the batch: this is the projector's busiest path, and a
    round trip to the database costs more than the Python of a report."""
    states = fold(e for r in fresh for e in fresh[r])
    # A NUL typed before the API refused it is stored as U+FFFD: compared with what the
    # read models hold, it would no longer equal itself. Such a report goes the long way.
    typed = [r for r, s in states.items() if b"\\u0000" not in msgspec.json.encode(s.content)]
    private = {r: str(states[r].organisation_id) for r in typed if reports[r][SHARING] != PARTNERS}
    joining = _joining(cur, typed, states, private) if typed else []
    targets: dict[tuple[str, UUID], UUID] = {}  # each firm joined, and by which organisation
    for j in joining:
        for pair in j.firms.items():
            targets.setdefault(pair, j.state.organisation_id)
    stored = _stored(cur, targets, written)
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
    changed.write(writes, written)
    if new_firms.firms:
        new_firms.write(cur)
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

    def write(self, writes: Writes, written: WrittenProfiles) -> None:
        """Into ``writes``, one statement with the batch's other last writes: each firm joined
        is changed once, and what a report joining adds no other write touches."""
        if not self.firms:
            return
        copy_rows(writes, "memberships (view, report_id, firm_id)", self.memberships)
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
        for table, column in FIRM_TEXTS.items():
            copy_rows(writes, f"{table} (view, firm_id, {column})", self.texts[table])
        words.rank(writes, self.ranks)
        words.write(writes, [], self.words, count=True)
        for key, profile, size in self.profiles:
            written.put(key, profile, size)


def _joining(
    cur: Cursor[Any],
    reports: list[UUID],
    states: dict[UUID, ReportState],
    private: dict[UUID, str],
) -> list[_Joining]:
    """The reports that join one firm in each view that sees them, or make their own:
    a shared report in the partners' view and every view that overrides its firm there;
    a private one (``private`` names its organisation's view) in that view alone."""
    cur.execute(
        "WITH reach AS (SELECT k1.report_id, m.view, array_agg(DISTINCT m.firm_id) AS firms "
        "  FROM report_keys k1 CROSS JOIN LATERAL (SELECT k2.report_id FROM report_keys k2 "
        "    WHERE k2.key = k1.key AND k2.report_id <> k1.report_id OFFSET 0) s "
        "  LEFT JOIN LATERAL (SELECT m.view, m.firm_id FROM memberships m "
        "    WHERE m.report_id = s.report_id OFFSET 0) m ON true "
        "  WHERE k1.report_id = ANY(%b) GROUP BY k1.report_id, m.view) "
        "SELECT report_id, view, firms, CASE WHEN view = 'partners' AND cardinality(firms) = 1 "
        "  THEN ARRAY(SELECT o.view FROM overridden o WHERE o.firm_id = firms[1]) END "
        "FROM reach",
        (reports,),
    )
    reach: dict[UUID, dict[str, set[UUID]]] = {r: {} for r in reports}
    held_back: set[UUID] = set()
    overriding: dict[UUID, set[str]] = {}
    for report, view, firms, overriders in cur.fetchall():
        if view is None:
            held_back.add(report)
        else:
            reach[report][view] = set(firms)
        if overriders is not None:
            overriding[report] = set(overriders)
    joining = []
    for report in reports:
        if report in held_back:
            continue
        own = private.get(report)
        found = (
            _shared(states[report], reach[report], overriding.get(report))
            if own is None
            else _private(states[report], reach[report], overriding.get(report), own)
        )
        if found is not None:
            joining.append(found)
    return joining


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
    cur: Cursor[Any], targets: Mapping[tuple[str, UUID], UUID], written: WrittenProfiles
) -> dict[tuple[str, UUID], tuple[Profile, bool]]:
    """The profiles of the firms joined, as stored (as this projector wrote them, where it
    remembers), and whether the organisation joining each has an active report in it."""
    if not targets:
        return {}
    held = {pair: written.get(pair) for pair in targets}
    cur.execute(
        "SELECT f.view, f.firm_id, "
        "CASE WHEN f.as_of_position = k.held THEN NULL ELSE f.profile END, "
        "EXISTS (SELECT FROM memberships m JOIN reports r ON r.report_id = m.report_id "
        "  WHERE m.view = f.view AND m.firm_id = f.firm_id "
        "  AND r.organisation_id = k.organisation_id AND r.status = 'active') "
        "FROM firms f JOIN unnest(%b::text[], %b::uuid[], %b::bigint[], %b::uuid[]) "
        "AS k(view, firm_id, held, organisation_id) "
        "ON f.view = k.view AND f.firm_id = k.firm_id",
        (
            [view for view, _ in targets],
            [firm for _, firm in targets],
            [-1 if p is None else p.as_of_position for p in held.values()],
            list(targets.values()),
        ),
    )
    found = {}
    for view, firm, stored, counted in cur.fetchall():
        remembered = held[view, firm]
        profile = stored_profile(stored) if remembered is None else remembered
        found[view, firm] = profile, counted
    return found
