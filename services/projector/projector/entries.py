"""Timeline entries as stored in the ``entries`` table, and back."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Cursor

from projector.model import Entry
from watchlist.domain.contract import LicenceCheck, Reply, ReportContent

_content = msgspec.json.Decoder(ReportContent)
_licence = msgspec.json.Decoder(LicenceCheck)
_reply = msgspec.json.Decoder(Reply)
COLUMNS = (
    "position, time, kind, report_id, organisation_id, content::text, reason, firm_a, firm_b, "
    "licence::text, reply::text, outcome"
)
TABLE = (
    "entries (position, time, kind, report_id, organisation_id, content, reason, "
    "firm_a, firm_b, licence, reply, outcome)"
)


# A JSON escape of U+0000: a backslash that is not itself escaped, then u0000.
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def json_bytes(value: object) -> bytes:
    """``value`` as JSON that PostgreSQL can store. It holds no U+0000 in jsonb; the API
    refuses it, but a log written before it did must still replay, so the read models
    show U+FFFD in its place. A backslash typed before "u0000" is text, and stays."""
    data = msgspec.json.encode(value)
    return _NUL_ESCAPE.sub(rb"\1\\ufffd", data) if b"u0000" in data else data


def json_text(value: object) -> str:
    return json_bytes(value).decode()


def _json(value: object | None) -> str | None:
    return None if value is None else json_text(value)


def to_row(entry: Entry) -> tuple[Any, ...]:
    return (
        entry.position,
        entry.time,
        entry.kind,
        entry.report_id,
        entry.organisation_id,
        _json(entry.content),
        entry.reason,
        entry.firm_a,
        entry.firm_b,
        _json(entry.licence),
        _json(entry.reply),
        entry.outcome,
    )


def from_row(row: tuple[Any, ...]) -> Entry:
    (
        position,
        time,
        kind,
        report_id,
        organisation_id,
        content,
        reason,
        firm_a,
        firm_b,
        licence,
        reply,
        outcome,
    ) = row
    return Entry(
        position=position,
        time=time,
        kind=kind,
        report_id=report_id,
        organisation_id=organisation_id,
        content=_content.decode(content) if content is not None else None,
        reason=reason,
        firm_a=firm_a,
        firm_b=firm_b,
        licence=_licence.decode(licence) if licence is not None else None,
        reply=_reply.decode(reply) if reply is not None else None,
        outcome=outcome,
    )


def load(
    cur: Cursor[Any],
    reports: Collection[UUID],
    up_to: int | None = None,
    decisions_of: Collection[UUID] | None = None,
) -> list[Entry]:
    """Entries about ``reports``, and facts naming them as firms (or naming
    ``decisions_of``, when given), in log order."""
    ids = list(reports)
    named = ids if decisions_of is None else list(decisions_of)
    limit = "" if up_to is None else " AND position <= %s"
    params: list[Any] = [ids, named, named] + ([] if up_to is None else [up_to])
    cur.execute(
        f"SELECT {COLUMNS} FROM entries "
        f"WHERE (report_id = ANY(%b) OR firm_a = ANY(%b) OR firm_b = ANY(%b)){limit} "
        "ORDER BY position",
        params,
    )
    return [from_row(row) for row in cur.fetchall()]


def for_firm(entries: list[Entry], members: Collection[UUID]) -> list[Entry]:
    """The entries of one firm: its reports' events, and decisions naming its reports."""
    return [
        e for e in entries if e.report_id in members or e.firm_a in members or e.firm_b in members
    ]
