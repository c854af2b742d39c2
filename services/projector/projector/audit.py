"""What auditors read: the chained log for export and verification, and replay comparison."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from psycopg.rows import tuple_row

from projector import tables
from projector.following import event_recorder
from projector.projection import Projection
from projector.rebuild import build, dump
from watchlist.audit import chain
from watchlist.audit.verify import Verdict, checkpoint_failure
from watchlist.database import Database
from watchlist.domain.taxonomy import Taxonomy


class _Stamp(msgspec.Struct):
    timestamp: str = ""


_stamp = msgspec.json.Decoder(_Stamp)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def checkpoints(
    conn: psycopg.Connection[Any], after: int = 0, limit: int | None = None
) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            "SELECT position, hash, signature, public_key, signed_at FROM watchlist_checkpoints "
            "WHERE position > %s ORDER BY position LIMIT %s",
            (after, limit),
        )
        return [
            {
                "type": "checkpoint",
                "position": p,
                "hash": bytes(h).hex(),
                "signature": _b64(bytes(s)),
                "public_key": _b64(bytes(k)),
                "signed_at": t.isoformat(),
            }
            for p, h, s, k, t in cur.fetchall()
        ]


def public_keys(conn: psycopg.Connection[Any]) -> list[str]:
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("SELECT DISTINCT public_key FROM watchlist_checkpoints")
        return sorted(_b64(bytes(row[0])) for row in cur.fetchall())


def chained_head(conn: psycopg.Connection[Any]) -> int:
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute("SELECT coalesce(max(position), 0) FROM watchlist_chain").fetchone()
        return int(row[0]) if row else 0


def export_lines(
    conn: psycopg.Connection[Any], after: int = 0, limit: int | None = None
) -> Iterator[str]:
    """NDJSON lines of the chained log after ``after``, each checkpoint after its event.

    States are exported exactly as stored: confidential parts stay sealed.
    """
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(
            "SELECT hash FROM watchlist_chain WHERE position <= %s ORDER BY position DESC LIMIT 1",
            (after,),
        ).fetchone()
    previous = bytes(row[0]) if row else chain.GENESIS
    marks = iter(checkpoints(conn, after))
    mark = next(marks, None)
    with conn.transaction(), conn.cursor(name="export", row_factory=tuple_row) as cur:
        cur.itersize = 2000
        cur.execute(
            "SELECT c.position, c.hash, e.originator_id, e.originator_version, e.topic, e.state "
            "FROM watchlist_chain c JOIN watchlist_events e ON e.notification_id = c.position "
            "WHERE c.position > %s ORDER BY c.position LIMIT %s",
            (after, limit),
        )
        for position, hash_, originator_id, version, topic, stored in cur:
            state = bytes(stored)
            while mark is not None and mark["position"] < position:
                yield json.dumps(mark)
                mark = next(marks, None)
            yield json.dumps(
                {
                    "type": "event",
                    "position": position,
                    "time": _stamp.decode(state).timestamp,
                    "topic": topic,
                    "originator_id": str(originator_id),
                    "version": version,
                    "state": _b64(state),
                    "previous": previous.hex(),
                    "hash": bytes(hash_).hex(),
                }
            )
            previous = bytes(hash_)
            if mark is not None and mark["position"] == position:
                yield json.dumps(mark)
                mark = next(marks, None)


def verify_database(
    conn: psycopg.Connection[Any], public_key: Ed25519PublicKey | None = None
) -> Verdict:
    """Recompute the chain from the stored events and check it against the stored chain
    and every checkpoint. Without a public key, each checkpoint is checked against the key
    stored beside it, which proves less: see docs/auditing.md."""
    marks = {m["position"]: m for m in checkpoints(conn)}
    head = chained_head(conn)
    previous, events, checked = chain.GENESIS, 0, 0
    with conn.transaction(), conn.cursor(name="verify", row_factory=tuple_row) as cur:
        cur.itersize = 5000
        cur.execute(
            "SELECT coalesce(c.position, e.notification_id), c.hash, e.notification_id, "
            "e.originator_id, e.originator_version, e.topic, e.state FROM watchlist_chain c "
            "FULL OUTER JOIN watchlist_events e ON e.notification_id = c.position "
            "WHERE coalesce(c.position, e.notification_id) <= %s ORDER BY 1",
            (head,),
        )
        for position, stored, present, originator_id, version, topic, state in cur:
            if present is None:
                return Verdict(
                    False,
                    events,
                    checked,
                    position,
                    "missing: the chained event at this position is gone",
                )
            if stored is None:
                return Verdict(
                    False, events, checked, position, "inserted: this event is not in the chain"
                )
            previous = chain.link(previous, position, originator_id, version, topic, bytes(state))
            if previous != bytes(stored):
                return Verdict(
                    False,
                    events,
                    checked,
                    position,
                    "changed: the stored event does not match its chain hash",
                )
            events += 1
            mark = marks.get(position)
            if mark is not None:
                key = public_key or Ed25519PublicKey.from_public_bytes(
                    base64.b64decode(mark["public_key"])
                )
                failure = checkpoint_failure(mark, previous, key)
                if failure:
                    return Verdict(False, events, checked, position, failure)
                checked += 1
    return Verdict(True, events, checked)


@dataclass
class Comparison:
    position: int
    rows: dict[str, int]
    differences: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.differences


def replay_and_compare(database: Database, taxonomy: Taxonomy) -> Comparison:
    """Rebuild every read model from the log into a scratch generation and compare it,
    row for row, with the live read models at the same log position."""
    recorder = event_recorder(database)
    try:
        with psycopg.connect(database.url, autocommit=True) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.transaction():
                live = tables.live_generation(conn)
                if live is None:
                    return Comparison(0, {}, ["no live read models: the projector never ran"])
                with conn.cursor(row_factory=tuple_row) as cur:
                    tables.use_generation(conn, live)
                    row = cur.execute("SELECT position FROM tracking").fetchone()
                position = int(row[0]) if row else 0
                live_rows = dump(conn, live)
            conn.isolation_level = None
            scratch, _, _ = build(conn, recorder, Projection(taxonomy), up_to=position)
            try:
                scratch_rows = dump(conn, scratch)
            finally:
                tables.drop_generation(conn, scratch)
    finally:
        recorder.datastore.close()
    return Comparison(
        position,
        {t: len(r) for t, r in scratch_rows.items()},
        _differences(live_rows, scratch_rows),
    )


def _differences(
    live: dict[str, list[tuple[Any, ...]]], replayed: dict[str, list[tuple[Any, ...]]]
) -> list[str]:
    found: list[str] = []
    live_firms = {(r[0], r[1]): r for r in live.get("firms", [])}
    replayed_firms = {(r[0], r[1]): r for r in replayed.get("firms", [])}
    columns = [
        "view",
        "firm_id",
        "display_name",
        "country",
        "level",
        "level_rank",
        "score",
        "organisations",
        "profile",
        "as_of_position",
    ]
    for key in sorted(live_firms.keys() | replayed_firms.keys(), key=str):
        a, b = live_firms.get(key), replayed_firms.get(key)
        if a is None or b is None:
            found.append(
                f"firm {key[1]} (view {key[0]}): "
                f"{'missing from live' if a is None else 'not in the log'}"
            )
        elif a != b:
            fields = [c for c, x, y in zip(columns, a, b, strict=True) if x != y]
            found.append(f"firm {key[1]} (view {key[0]}): {', '.join(fields)} differ")
    for table in sorted(live.keys() | replayed.keys()):
        if table != "firms" and live.get(table) != replayed.get(table):
            extra = len(set(live.get(table, [])) ^ set(replayed.get(table, [])))
            found.append(f"table {table}: {extra} row(s) differ")
    return found
