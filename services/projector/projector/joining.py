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
from projector.model import Entry, ReportState, fold
from projector.profile import Profile, joined, profile_of, stored_profile
from projector.rows import Before, Rows, WrittenProfiles
from watchlist.domain.taxonomy import Taxonomy

PARTNERS = "partners"


@dataclass
class _Joining:
    state: ReportState
    firms: dict[str, UUID]  # the firm it joins in each view that sees it; none: a new firm


def join(
    cur: Cursor[Any],
    reports: Mapping[UUID, Sequence[Any]],
    fresh: Mapping[UUID, list[Entry]],
    taxonomy: Taxonomy,
    written: WrittenProfiles,
) -> list[ReportState]:
    """Add the batch's new reports that join one firm (or make their own) to the read
    models, and return their states. ``reports`` are the batch's report rows, ``fresh``
    the entries of the reports it submitted: a batch of submissions and nothing else."""
    states = fold(e for r in fresh if reports[r][SHARING] == PARTNERS for e in fresh[r])
    # A NUL typed before the API refused it is stored as U+FFFD: compared with what the
    # read models hold, it would no longer equal itself. Such a report goes the long way.
    shared = [r for r, s in states.items() if b"\\u0000" not in msgspec.json.encode(s.content)]
    joining = _joining(cur, shared, states) if shared else []
    pairs = sorted({(view, firm) for j in joining for view, firm in j.firms.items()})
    stored = _stored(cur, pairs, written)
    counted = _organisations_counted(cur, pairs, {j.state.organisation_id for j in joining})
    before = Before(set(), {}, set(), set())
    rows = Rows(before, written=written)
    done: list[ReportState] = []
    for j in joining:
        state, found = j.state, {}
        for view, firm in j.firms.items():
            if (view, firm) in before.as_of or (view, firm) not in stored:
                break  # another report of the batch joins it too: the long way for this one
            profile = stored[view, firm]
            after = joined(
                profile,
                state,
                taxonomy,
                organisation_counted=(view, firm, state.organisation_id) in counted,
                as_of_position=state.last_position,
            )
            if after is None:
                break
            found[view] = (profile, after)
        else:
            if not j.firms:  # no other report has its keys: a firm of its own
                rows.memberships.append((PARTNERS, state.report_id, state.report_id))
                rows.add_firm(
                    PARTNERS,
                    profile_of(state.report_id, [state], [], taxonomy, state.last_position),
                )
            for view, (profile, after) in found.items():
                firm = profile.firm_id
                before.as_of[view, firm] = profile.as_of_position
                before.names |= {(view, firm, n) for n in words.search_names(profile.names)}
                rows.memberships.append((view, state.report_id, firm))
                rows.add_firm(view, after)
            done.append(state)
    if done:
        rows.write(cur)
    return done


def _joining(
    cur: Cursor[Any], shared: list[UUID], states: dict[UUID, ReportState]
) -> list[_Joining]:
    """The reports among ``shared`` that join one firm in each view that sees them."""
    # Per report and view, the firms of the reports sharing a key with it; a view of None
    # for a report not resolved yet (one of the batch).
    cur.execute(
        "SELECT k1.report_id, m.view, array_agg(DISTINCT m.firm_id) FROM report_keys k1 "
        "JOIN report_keys k2 ON k2.key = k1.key AND k2.report_id <> k1.report_id "
        "LEFT JOIN memberships m ON m.report_id = k2.report_id "
        "WHERE k1.report_id = ANY(%b) GROUP BY k1.report_id, m.view",
        (shared,),
    )
    reach: dict[UUID, dict[str, set[UUID]]] = {r: {} for r in shared}
    held_back: set[UUID] = set()
    for report, view, firms in cur.fetchall():
        if view is None:
            held_back.add(report)
        else:
            reach[report][view] = set(firms)
    partner_firms = {
        r: next(iter(views[PARTNERS]))
        for r, views in reach.items()
        if r not in held_back and len(views.get(PARTNERS, ())) == 1
    }
    overriding: dict[UUID, set[str]] = {}
    if partner_firms:
        # Firm ids are report ids: each partner firm here is in the overridden table under
        # its own id, for every organisation whose private reports reshape its cluster.
        cur.execute(
            "SELECT view, firm_id FROM overridden WHERE firm_id = ANY(%b)",
            (sorted(set(partner_firms.values())),),
        )
        for view, firm in cur.fetchall():
            overriding.setdefault(firm, set()).add(view)
    joining = []
    for report in shared:
        views = reach[report]
        if report in held_back:
            continue
        if not views:
            joining.append(_Joining(states[report], {}))
            continue
        firm = partner_firms.get(report)
        if firm is None:
            continue  # two firms, or only private reports share its keys
        seen = {PARTNERS, *overriding.get(firm, ())}
        if set(views) != seen or any(len(firms) != 1 for firms in views.values()):
            continue
        joining.append(_Joining(states[report], {v: next(iter(f)) for v, f in views.items()}))
    return joining


def _stored(
    cur: Cursor[Any], pairs: list[tuple[str, UUID]], written: WrittenProfiles
) -> dict[tuple[str, UUID], Profile]:
    """The firms' profiles as stored: as this projector wrote them, where it remembers."""
    if not pairs:
        return {}
    held = {pair: written.get(pair) for pair in pairs}
    cur.execute(
        "SELECT f.view, f.firm_id, "
        "CASE WHEN f.as_of_position = k.held THEN NULL ELSE f.profile END FROM firms f "
        "JOIN unnest(%b::text[], %b::uuid[], %b::bigint[]) AS k(view, firm_id, held) "
        "ON f.view = k.view AND f.firm_id = k.firm_id",
        (
            [view for view, _ in pairs],
            [firm for _, firm in pairs],
            [-1 if p is None else p.as_of_position for p in held.values()],
        ),
    )
    found = {}
    for view, firm, stored in cur.fetchall():
        remembered = held[view, firm]
        found[view, firm] = stored_profile(stored) if remembered is None else remembered
    return found


def _organisations_counted(
    cur: Cursor[Any], pairs: list[tuple[str, UUID]], organisations: set[UUID]
) -> set[tuple[str, UUID, UUID]]:
    """(view, firm, organisation) for the organisations with an active report in a firm."""
    if not pairs:
        return set()
    cur.execute(
        "SELECT DISTINCT m.view, m.firm_id, r.organisation_id FROM memberships m "
        "JOIN unnest(%b::text[], %b::uuid[]) AS k(view, firm_id) "
        "ON m.view = k.view AND m.firm_id = k.firm_id "
        "JOIN reports r ON r.report_id = m.report_id "
        "WHERE r.status = 'active' AND r.organisation_id = ANY(%b)",
        ([v for v, _ in pairs], [f for _, f in pairs], sorted(organisations)),
    )
    return {(view, firm, org) for view, firm, org in cur.fetchall()}
