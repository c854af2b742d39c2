"""Rebuild the read models beside the live ones, then swap them in; and the projector's status."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from projector import tables
from projector.following import collector_paused, decode, event_recorder
from projector.profile import unpacked
from projector.projection import Projection
from projector.replay import Replay, entries_copy
from projector.runner import LOCK_KEY
from watchlist.database import Database
from watchlist.domain.taxonomy import Taxonomy

# A replay reads the log this many events at a time.
REPLAY_BATCH = 100_000


@dataclass(frozen=True)
class Rebuilt:
    generation: int
    replaced: int | None
    position: int
    events: int


def rebuild(database: Database, taxonomy: Taxonomy, batch_size: int = REPLAY_BATCH) -> Rebuilt:
    """Replay the whole log into a new generation and make it the live one.

    The API keeps reading the live generation all along. The swap holds the
    pointer row, so the running projector pauses between two batches, the new
    generation catches up to the head, and the pointer moves, in one transaction.
    """
    projection = Projection(taxonomy)
    recorder = event_recorder(database)
    try:
        with psycopg.connect(database.url, autocommit=True) as conn:
            generation, position, events = build(conn, recorder, projection, batch_size)
            tables.vacuum_generation(conn, generation)  # while the old one still serves
            with conn.transaction():
                row = conn.execute(f"SELECT generation FROM {tables.POINTER} FOR UPDATE").fetchone()
                replaced = None if row is None else int(row[0])
                position, more = _catch_up(
                    conn, recorder, projection, generation, position, batch_size
                )
                events += more
                conn.execute(
                    f"INSERT INTO {tables.POINTER} (generation) VALUES (%s) "
                    "ON CONFLICT (singleton) DO UPDATE SET generation = excluded.generation, "
                    "swapped_at = now()",
                    (generation,),
                )
                tables.announce(conn, position)
            if replaced is not None:
                tables.drop_generation(conn, replaced)
    finally:
        recorder.datastore.close()
    return Rebuilt(generation=generation, replaced=replaced, position=position, events=events)


def build(
    conn: psycopg.Connection[Any],
    recorder: Any,
    projection: Projection,
    batch_size: int = REPLAY_BATCH,
    up_to: int | None = None,
) -> tuple[int, int, int]:
    """A new generation, not live, replayed from the log: (generation, position, events)."""
    tables.ensure_pointer(conn)
    generation = tables.create_generation(conn, indexes=False)
    replay = Replay(projection)
    try:
        with collector_paused(), conn.transaction(), conn.cursor() as cur:
            tables.use_generation(conn, generation)
            with entries_copy(cur) as entries:
                for batch in _read_ahead(recorder, batch_size, up_to):
                    replay.add(entries, decode(batch))
            replay.finish(cur, generation)
    except BaseException:
        # Its tables were committed empty, and a second renderer may have filled some.
        with contextlib.suppress(psycopg.Error):
            tables.drop_generation(conn, generation)
        raise
    finally:
        replay.keys.close()
    return generation, replay.position, replay.events


def _read_ahead(recorder: Any, batch_size: int, up_to: int | None) -> Iterator[list[Any]]:
    """The log from its start, a batch at a time; the next batch is read while the caller
    folds this one (the read waits on the server, and the wait lets go of the GIL)."""

    def read(after: int) -> list[Any]:
        return list(
            recorder.select_notifications(
                start=after, limit=batch_size, stop=up_to, inclusive_of_start=False
            )
        )

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-read") as reader:
        batch = read(0)
        while batch:
            following = reader.submit(read, batch[-1].id)
            yield batch
            batch = following.result()


def dump(conn: psycopg.Connection[Any], generation: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of a generation, in a stable order: what 'identical' read models means."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            (tables.schema_name(generation),),
        )
        for (table,) in cur.fetchall():
            schema = sql.Identifier(tables.schema_name(generation))
            if table == "tracking":  # its time of update differs; its position may not
                query = sql.SQL("SELECT position FROM {}.tracking").format(schema)
            else:
                query = sql.SQL("SELECT * FROM {}.{} t ORDER BY t::text").format(
                    schema, sql.Identifier(table)
                )
            rows = cur.execute(query).fetchall()
            if table == "firms":  # profiles compare by their JSON, not by how it was packed
                at = [column.name for column in cur.description or ()].index("profile")
                rows = [(*r[:at], unpacked(r[at]), *r[at + 1 :]) for r in rows]
            found[table] = rows
    return found


def _catch_up(
    conn: psycopg.Connection[Any],
    recorder: Any,
    projection: Projection,
    generation: int,
    after: int,
    batch_size: int,
) -> tuple[int, int]:
    """Project what the log gained since ``after`` onto ``generation``, as the live projector
    would, in the caller's transaction: (position, events)."""
    position, count = after, 0
    while batch := recorder.select_notifications(
        start=position, limit=batch_size, inclusive_of_start=False
    ):
        tables.use_generation(conn, generation)
        with collector_paused():
            projection.apply(conn, decode(batch))
        position, count = batch[-1].id, count + len(batch)
    return position, count


@dataclass(frozen=True)
class Status:
    head: int
    position: int
    generation: int | None
    updated_at: datetime | None
    running: bool

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)

    def stalled(self, now: datetime, after_seconds: float = 30.0) -> bool:
        """Behind the log, with no batch committed for a while (or no projector at all)."""
        if self.lag == 0:
            return False
        if not self.running or self.updated_at is None:
            return True
        return (now - self.updated_at).total_seconds() > after_seconds


def status(conn: psycopg.Connection[Any]) -> Status:
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        head_row = cur.execute(
            "SELECT coalesce(max(notification_id), 0) FROM watchlist_events"
        ).fetchone()
        running_row = cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
            "AND objid = %s AND objsubid = 2 AND granted",
            LOCK_KEY,
        ).fetchone()
        head = int(head_row[0]) if head_row else 0
        running = bool(running_row and running_row[0])
        pointer = cur.execute("SELECT to_regclass(%s) IS NOT NULL", (tables.POINTER,)).fetchone()
        generation = tables.live_generation(conn) if pointer and pointer[0] else None
        if generation is None:
            return Status(head=head, position=0, generation=None, updated_at=None, running=running)
        tables.use_generation(conn, generation)
        row = cur.execute("SELECT position, updated_at FROM tracking").fetchone()
        assert row is not None
        return Status(
            head=head,
            position=int(row[0]),
            generation=generation,
            updated_at=row[1],
            running=running,
        )
