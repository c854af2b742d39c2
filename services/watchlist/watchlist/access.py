"""The access log: who read or changed what, when, with which key. Append-only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from watchlist import cursors


class Access(msgspec.Struct, frozen=True, kw_only=True):
    """One request. A public check has no organisation or key: its client is a keyed hash
    of the address, never the address."""

    at: datetime
    request_id: UUID
    organisation_id: UUID | None
    key_id: UUID | None
    client: str | None = None
    role: str
    method: str
    route: str
    path: str
    report_ids: list[UUID]
    firm_ids: list[UUID]
    status: int
    latency_ms: float


class AccessPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Access]
    next_cursor: str | None


COLUMNS = (
    "at, request_id, organisation_id, key_id, client, role, method, route, path, report_ids, "
    "firm_ids, status, latency_ms"
)


# Each column travels as one binary array (see ``persistence.insert_rows``); the id lists
# as array literals, since unnest() would flatten an array of arrays.
_INSERT = (
    f"INSERT INTO watchlist_access_log ({COLUMNS}) "
    "SELECT at, request_id, organisation_id, key_id, client, role, method, route, path, "
    "report_ids::uuid[], firm_ids::uuid[], status, latency_ms FROM unnest("
    "%b::timestamptz[], %b::uuid[], %b::uuid[], %b::uuid[], %b::text[], %b::text[], "
    "%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::integer[], %b::real[]"
    f") AS entry ({COLUMNS})"
)


def insert(entries: Sequence[Access]) -> tuple[str, list[Any]]:
    """One INSERT of many entries, of the same text whatever their number (the database
    plans it once; the driver parses it once)."""
    return _INSERT, [
        [e.at for e in entries],
        [e.request_id for e in entries],
        [e.organisation_id for e in entries],
        [e.key_id for e in entries],
        [e.client for e in entries],
        [e.role for e in entries],
        [e.method for e in entries],
        [e.route for e in entries],
        [e.path for e in entries],
        [_array(e.report_ids) for e in entries],
        [_array(e.firm_ids) for e in entries],
        [e.status for e in entries],
        [e.latency_ms for e in entries],
    ]


def _array(ids: Sequence[UUID]) -> str:
    return "{" + ",".join(map(str, ids)) + "}"


def query(
    organisation: UUID | None,
    firm: UUID | None,
    report: UUID | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[str, list[Any]]:
    """SQL for a page of the access log, newest first, and its parameters."""
    where: list[str] = ["id < %s"]
    params: list[Any] = [cursors.decode_int(cursor, 2**63 - 1)]
    for clause, value in (
        ("organisation_id = %s", organisation),
        ("%s = ANY(firm_ids)", firm),
        ("%s = ANY(report_ids)", report),
        ("at >= %s", since),
        ("at < %s", until),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    sql = (
        f"SELECT id, {COLUMNS} FROM watchlist_access_log WHERE {' AND '.join(where)} "
        "ORDER BY id DESC LIMIT %s"
    )
    return sql, [*params, limit + 1]


def page(rows: list[dict[str, Any]], limit: int) -> AccessPage:
    items = [Access(**{k: v for k, v in r.items() if k != "id"}) for r in rows[:limit]]
    more = len(rows) > limit
    return AccessPage(
        items=items, next_cursor=cursors.encode(rows[limit - 1]["id"]) if more else None
    )
