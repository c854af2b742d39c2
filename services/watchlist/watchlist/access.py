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


def insert(entries: Sequence[Access]) -> tuple[str, list[Any]]:
    """One INSERT of many entries (their id arrays rule out unnest(): one VALUES row each)."""
    placeholders = "(" + ", ".join(["%s"] * len(Access.__struct_fields__)) + ")"
    params = [getattr(entry, f) for entry in entries for f in Access.__struct_fields__]
    values = ", ".join([placeholders] * len(entries))
    return f"INSERT INTO watchlist_access_log ({COLUMNS}) VALUES {values}", params


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
