"""The hash-chain projection: every stored event chained, with signed checkpoints.

It runs inside the projector's transactions, so each event is chained exactly
once. Following the log, the chain takes each batch's events as they come; a
log the chain does not reach yet (reports imported while no projector ran, or
a log older than the chain) is chained a bounded step at a time, so that the
read models never wait on it for long. Auditors see the chain up to its head.
The chain lives in its own tables, outside the read-model generations: a
rebuild never touches it. The tables refuse UPDATE and DELETE, like the access
log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eventsourcing.persistence import Notification
from psycopg.rows import tuple_row

from projector.writing import Writes, copy_rows
from watchlist.audit import chain
from watchlist.persistence import SCHEMA_LOCK

# Events chained at most per transaction from the stored log, when the chain trails it.
STEP = 2000

DDL = [
    """CREATE TABLE IF NOT EXISTS watchlist_chain (
        position bigint PRIMARY KEY,
        hash bytea NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS watchlist_checkpoints (
        position bigint PRIMARY KEY,
        hash bytea NOT NULL,
        signature bytea NOT NULL,
        public_key bytea NOT NULL,
        signed_at timestamptz NOT NULL)""",
    """CREATE OR REPLACE FUNCTION watchlist_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""",
]
APPEND_ONLY = ("watchlist_chain", "watchlist_checkpoints")


def ensure_tables(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        conn.execute(SCHEMA_LOCK)  # the write side's creators replace the function too
        for statement in DDL:
            conn.execute(statement)
        for table in APPEND_ONLY:
            conn.execute(
                f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION watchlist_append_only()"
            )


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# The chain's head (position, hash) and its last checkpoint (position, time), in one
# statement without parameters; None for what does not exist yet.
HEAD = (
    "SELECT c.position, c.hash, k.position, k.signed_at FROM (SELECT) AS one "
    "LEFT JOIN LATERAL (SELECT position, hash FROM watchlist_chain "
    "  ORDER BY position DESC LIMIT 1) c ON true "
    "LEFT JOIN LATERAL (SELECT position, signed_at FROM watchlist_checkpoints "
    "  ORDER BY position DESC LIMIT 1) k ON true"
)


@dataclass
class Chain:
    """Extends the chain up to a position, and signs a checkpoint every K events or T seconds."""

    key: Ed25519PrivateKey
    every: int = 1000
    seconds: float = 60.0
    step: int = STEP
    public_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.public_key = public_key_bytes(self.key)

    def extend(
        self,
        conn: psycopg.Connection[Any],
        up_to: int,
        *,
        known: tuple[int, Sequence[Notification]] | None = None,
        writes: Writes | None = None,
        head: Sequence[Any] | None = None,
    ) -> int:
        """Chain the log after the chain's head, up to position ``up_to``: the new head.

        ``known`` is ``(after, events)``, every event of the log after position ``after``
        up to ``up_to``, as the projector just read them: when the head is at ``after``,
        they are chained as they are. Otherwise at most ``step`` events are read from
        the log and chained. The new links are written into ``writes`` if given (the
        projector's batch sends them with its last writes), or else at once. ``head`` is
        what ``HEAD`` read in the caller's transaction, if it did.
        """
        if head is None:
            with conn.cursor(row_factory=tuple_row) as cur:
                head = cur.execute(HEAD).fetchone()
        assert head is not None
        position, previous = (0, chain.GENESIS) if head[0] is None else (head[0], bytes(head[1]))
        if position >= up_to:
            return position
        with conn.cursor(row_factory=tuple_row) as cur:
            events: Sequence[tuple[int, Any, int, str, bytes]]
            if known is not None and known[0] == position:
                events = [
                    (n.id, n.originator_id, n.originator_version, n.topic, n.state)
                    for n in known[1]
                ]
            else:
                events = cur.execute(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM watchlist_events WHERE notification_id > %s AND notification_id <= %s "
                    "ORDER BY notification_id LIMIT %s",
                    (position, up_to, self.step),
                ).fetchall()
            if not events:
                return position
            rows = []
            for notification_id, originator_id, version, topic, state in events:
                previous = chain.link(
                    previous, notification_id, originator_id, version, topic, bytes(state)
                )
                rows.append((notification_id, previous))
            into = writes or cur
            copy_rows(into, "watchlist_chain (position, hash)", rows)
            self._maybe_checkpoint(into, rows[-1][0], rows[-1][1], tuple(head[2:]))
            return int(rows[-1][0])

    def _maybe_checkpoint(
        self,
        cur: psycopg.Cursor[Any] | Writes,
        position: int,
        head: bytes,
        last: tuple[int | None, datetime | None],
    ) -> None:
        now = datetime.now(UTC)
        at, signed_at = last
        due = (
            at is None
            or signed_at is None
            or position - at >= self.every
            or (now - signed_at).total_seconds() >= self.seconds
        )
        if due:
            cur.execute(
                "INSERT INTO watchlist_checkpoints (position, hash, signature, public_key, "
                "signed_at) VALUES (%s, %s, %s, %s, %s)",
                (position, head, chain.sign(self.key, position, head), self.public_key, now),
            )
