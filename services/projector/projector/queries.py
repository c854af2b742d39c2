"""The read models as the API reads them, for one viewing organisation.

A viewer sees the 'partners' view, except where its own private reports
reshape a cluster: there its own view overrides. Every answer carries the
log position it reflects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, TypeVar
from uuid import UUID

import msgspec
import psycopg
from psycopg import Connection
from psycopg.rows import tuple_row

from projector import entries as stored_entries
from projector import live, tables
from projector.model import Entry
from projector.profile import Profile, build_profile, served
from projector.risk import Level
from projector.search import search
from watchlist import cursors
from watchlist.domain.taxonomy import Taxonomy

T = TypeVar("T")
NotProjected = live.NotProjected


class Moved(msgspec.Struct, frozen=True):
    """The firm asked for is now part of another (its reports were linked)."""

    merged_into: UUID


class TimelineItem(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    time: datetime
    kind: str
    organisation_id: UUID | None
    organisation: str | None
    report_id: UUID | None
    summary: str
    reason: str | None = None


class Timeline(msgspec.Struct, frozen=True, kw_only=True):
    firm_id: UUID
    items: list[TimelineItem]
    next_cursor: str | None
    as_of_position: int


def _read(conn: Connection[Any], fn: Callable[[psycopg.Cursor[Any]], T]) -> T:
    """Run ``fn`` on the live generation; once more if a rebuild swapped it meanwhile."""
    for attempt in (1, 2):
        try:
            with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
                # Which generation is live, and reading it, in one round trip.
                row = cur.execute(
                    f"SELECT {tables.SEARCH_PATH.format('generation')} FROM {tables.POINTER}"
                ).fetchone()
                if row is None:
                    raise NotProjected("the projector has not built the read models yet")
                return fn(cur)
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _position(cur: psycopg.Cursor[Any]) -> int:
    row = cur.execute("SELECT position FROM tracking").fetchone()
    return int(row[0]) if row else 0


@cache
def _position_statement(s: str) -> str:
    return f"SELECT p.generation, t.position FROM {tables.POINTER} p CROSS JOIN {s}.tracking t"


def projected_position(conn: Connection[Any]) -> int:
    try:
        return int(live.read(conn, _position_statement, ())[0][1])
    except NotProjected:
        return 0


def _seen_as(memberships: str, param: str) -> str:
    """The firm that report (or firm) ``param`` is in, as the viewer ``me`` sees it: its
    own view first, else the partners'. No row if the viewer sees neither."""
    return (
        f"SELECT view, firm_id FROM {memberships} WHERE report_id = %({param})s "
        "AND view IN (%(me)s, 'partners') ORDER BY view = 'partners' LIMIT 1"
    )


def _firm_of(cur: psycopg.Cursor[Any], me: str, report_id: UUID) -> tuple[str, UUID] | None:
    row = cur.execute(_seen_as("memberships", "report"), {"report": report_id, "me": me})
    found = row.fetchone()
    return None if found is None else (found[0], found[1])


def _locate(cur: psycopg.Cursor[Any], me: str, firm_id: UUID) -> str | Moved | None:
    """The view in which ``me`` sees firm ``firm_id``; where it went; or None if unseen."""
    found = _firm_of(cur, me, firm_id)
    if found is None:
        return None
    view, current = found
    return view if current == firm_id else Moved(merged_into=current)


def _members(cur: psycopg.Cursor[Any], view: str, firm_id: UUID) -> list[UUID]:
    cur.execute(
        "SELECT report_id FROM memberships WHERE view = %s AND firm_id = %s", (view, firm_id)
    )
    return [row[0] for row in cur.fetchall()]


@cache
def _profile_statement(s: str) -> str:
    # Where the viewer sees the firm (its own view first), and if the firm is still
    # itself there, its stored profile as the live position's answer.
    return (
        "SELECT p.generation, t.position, m.view, m.firm_id, "
        f"(SELECT f.profile FROM {s}.firms f"
        "  WHERE f.view = m.view AND f.firm_id = m.firm_id AND m.firm_id = %(firm)s) "
        f"FROM {tables.POINTER} p CROSS JOIN {s}.tracking t "
        f"LEFT JOIN LATERAL ({_seen_as(f'{s}.memberships', 'firm')}) m ON true"
    )


def firm_json(conn: Connection[Any], viewer: UUID, firm_id: UUID) -> bytes | Moved | None:
    """The live profile as the JSON the projector stored, ``as_of_position`` set to now."""
    row = live.read(conn, _profile_statement, {"firm": firm_id, "me": str(viewer)})[0]
    _, position, view, current, profile = row
    if view is None:
        return None
    if current != firm_id:
        return Moved(merged_into=current)
    assert profile is not None, f"firm {firm_id} has members but no profile"
    if not isinstance(profile, bytes):  # a generation of an older format, being replaced
        raise live.Rebuilding("the read models are being rebuilt in a new format")
    return served(profile, position)


def firm(
    conn: Connection[Any],
    viewer: UUID,
    firm_id: UUID,
    taxonomy: Taxonomy,
    as_of: int | datetime | None = None,
) -> Profile | Moved | None:
    me = str(viewer)
    if as_of is None:
        found = firm_json(conn, viewer, firm_id)
        return msgspec.json.decode(found, type=Profile) if isinstance(found, bytes) else found

    def read(cur: psycopg.Cursor[Any]) -> Profile | Moved | None:
        view = _locate(cur, me, firm_id)
        if not isinstance(view, str):
            return view
        position = _position(cur)
        limit = as_of if isinstance(as_of, int) else _position_at(cur, as_of)
        limit = min(limit, position)
        members = _members(cur, view, firm_id)
        own = stored_entries.for_firm(stored_entries.load(cur, members, up_to=limit), members)
        if not any(e.kind == "submitted" for e in own):
            return None
        return build_profile(firm_id, own, taxonomy, limit)

    return _read(conn, read)


def _position_at(cur: psycopg.Cursor[Any], moment: datetime) -> int:
    row = cur.execute(
        "SELECT coalesce(max(position), 0) FROM entries WHERE time <= %s", (moment,)
    ).fetchone()
    return int(row[0]) if row else 0


def timeline(
    conn: Connection[Any], viewer: UUID, firm_id: UUID, *, after: int = 0, limit: int = 100
) -> Timeline | Moved | None:
    me = str(viewer)

    def read(cur: psycopg.Cursor[Any]) -> Timeline | Moved | None:
        view = _locate(cur, me, firm_id)
        if not isinstance(view, str):
            return view
        members = _members(cur, view, firm_id)
        own = [
            e
            for e in stored_entries.for_firm(stored_entries.load(cur, members), members)
            if e.position > after
        ]
        page, more = own[:limit], len(own) > limit
        names = _organisation_names(cur, {e.organisation_id for e in page if e.organisation_id})
        items = [_timeline_item(e, names, firm_id) for e in page]
        return Timeline(
            firm_id=firm_id,
            items=items,
            as_of_position=_position(cur),
            next_cursor=cursors.encode(page[-1].position) if more else None,
        )

    return _read(conn, read)


def _organisation_names(cur: psycopg.Cursor[Any], ids: set[UUID]) -> dict[UUID, str]:
    cur.execute(
        "SELECT organisation_id, name FROM organisations WHERE organisation_id = ANY(%b)",
        (list(ids),),
    )
    return {row[0]: row[1] for row in cur.fetchall()}


def _timeline_item(entry: Entry, names: dict[UUID, str], firm_id: UUID) -> TimelineItem:
    who = names.get(entry.organisation_id) if entry.organisation_id else None
    by = who or "an organisation"
    match entry.kind:
        case "submitted":
            assert entry.content is not None
            codes = ", ".join(i.code for i in entry.content.indicators) or "no indicators"
            summary = (
                f"{by} reported {entry.content.subject.names[0]} ({entry.content.sharing}): {codes}"
            )
        case "amended":
            summary = f"{by} amended its report: {entry.reason}"
        case "retracted":
            summary = f"{by} retracted its report: {entry.reason}"
        case "erased":
            summary = f"{by} erased the report's confidential part: {entry.reason}"
        case "evidence":
            summary = f"{by} registered evidence: {entry.reason}"
        case "reply":
            assert entry.reply is not None
            count = len(entry.reply.disputed_reports)
            summary = (
                f"the firm replied (received {entry.reply.received_on.isoformat()}, "
                f"recorded by {by}), disputing {count} report(s)"
            )
        case "disputed":
            summary = "the firm's reply disputes this report"
        case "resolved":
            summary = f"{by} resolved the dispute: {entry.outcome}: {entry.reason}"
        case "licence_check":
            assert entry.licence is not None
            found = entry.licence
            summary = (
                f"{by} checked the licence in {found.registry} on "
                f"{found.checked_on.isoformat()}: {found.status}"
            )
        case _:
            other = entry.firm_b if entry.firm_a == firm_id else entry.firm_a
            verb = "linked with" if entry.kind == "linked" else "kept apart from"
            summary = f"{by} {verb} firm {other}: {entry.reason}"
    return TimelineItem(
        position=entry.position,
        time=entry.time,
        kind=entry.kind,
        organisation_id=entry.organisation_id,
        organisation=who,
        report_id=entry.report_id,
        summary=summary,
        reason=entry.reason,
    )


@cache
def _report_firm_statement(s: str) -> str:
    return (
        "SELECT p.generation, t.position, f.firm_id, f.level "
        f"FROM {tables.POINTER} p CROSS JOIN {s}.tracking t "
        f"LEFT JOIN LATERAL ({_seen_as(f'{s}.memberships', 'report')}) m ON true "
        f"LEFT JOIN {s}.firms f ON f.view = m.view AND f.firm_id = m.firm_id"
    )


def report_firm(conn: Connection[Any], viewer: UUID, report_id: UUID) -> tuple[UUID, Level] | None:
    """The firm a report belongs to in its viewer's eyes, and that firm's level: what a
    submission's answer tells, once projected, in one round trip."""
    try:
        rows = live.read(conn, _report_firm_statement, {"report": report_id, "me": str(viewer)})
    except NotProjected:
        return None
    _, _, firm_id, level = rows[0]
    return None if firm_id is None else (firm_id, level)


def timeline_cursor(cursor: str | None) -> int:
    return cursors.decode_int(cursor, 0)


PUBLIC_VIEWER = UUID(int=0)  # no organisation: the partners' view, and nothing private
# Search hits a public check reads at a time.
PUBLIC_PAGE = 50


class PublicFirm(msgspec.Struct, frozen=True, kw_only=True):
    """All the public may learn of a firm: never narratives, organisations or identifiers."""

    display_name: str
    level: Level
    organisations: int
    licence_status: str | None
    latest_report: str | None  # the month, YYYY-MM


def public_check(
    conn: Connection[Any], q: str, *, min_organisations: int, limit: int = 10
) -> dict[UUID, PublicFirm]:
    """Firms matching ``q`` that at least ``min_organisations`` independent organisations
    reported, or that are critical, and that no pending dispute hangs over, by firm id (for
    the access log: the public is never told the ids), in the order of the search.

    Every firm the search finds is considered, page after page, however many better
    matches only one organisation reported: a caller who typed the name a letter off
    still learns of the firm. Only a firm that qualifies by its count or level has its
    profile read, for its disputes and licence."""
    shown: dict[UUID, PublicFirm] = {}
    cursor: str | None = None
    while True:
        page = search(
            conn, PUBLIC_VIEWER, q=q, country=None, level=None, cursor=cursor, limit=PUBLIC_PAGE
        )
        for hit in page.items:
            if hit.organisations < min_organisations and hit.level != "critical":
                continue
            found = firm(conn, PUBLIC_VIEWER, hit.firm_id, Taxonomy.empty())
            if not isinstance(found, Profile) or found.disputed_reports:
                continue
            shown[hit.firm_id] = PublicFirm(
                display_name=found.display_name,
                level=found.risk.level,
                organisations=found.organisations,
                licence_status=found.licence.status if found.licence else None,
                latest_report=(
                    found.last_report_at.strftime("%Y-%m") if found.last_report_at else None
                ),
            )
            if len(shown) == limit:
                return shown
        if page.next_cursor is None:
            return shown
        cursor = page.next_cursor
