"""Reads of the live read-model generation, one statement (one round trip) each.

A statement names a generation's schema outright and reads the pointer to the
live generation too, in the same snapshot. It runs on the generation this
process last found live; should the pointer it returns name another (a rebuild
was swapped in), or the schema be gone, it runs once more on the live one.
So a read costs no extra query to find the generation, no transaction and no
``search_path``, and still never mixes two generations.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import psycopg
from psycopg import Connection
from psycopg.rows import tuple_row

from projector import tables

Row = tuple[Any, ...]
# Planner settings for the statements ``read_by_index`` runs, to the end of their transaction.
_INDEX_ONLY = (
    "SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true), "
    "set_config('plan_cache_mode', 'force_generic_plan', true)"
)


class NotProjected(Exception):
    """No read model exists yet: the projector has never run."""


class Rebuilding(NotProjected):
    """The live read models were built in an older format than this code reads; the
    projector is replaying the log into new ones (see ``tables.FORMAT``)."""


class _Seen:
    generation: int | None = None


_seen = _Seen()  # a guess only: every statement checks it against the pointer


def schema(generation: int) -> str:
    return f'"{tables.schema_name(generation)}"'


def read(conn: Connection[Any], statement: Callable[[str], str], params: Any) -> list[Row]:
    """Rows of ``statement(schema)``: each starts with the live generation and position.

    The statement reads ``{tables.POINTER}`` and the generation's ``tracking``, so
    it returns at least one row (``LEFT JOIN`` the rest onto them).
    """
    return _retrying(conn, lambda cur, s: cur.execute(statement(s), params).fetchall())


def read_by_index(conn: Connection[Any], statement: Callable[[str], str], params: Any) -> list[Row]:
    """As ``read``, planned with sequential scans off, once per connection.

    The planner cannot price the trigram operator and scans every word; the
    setting must hold while the statement is planned. With sequential scans
    priced out, the one-row pointer and tracking tables make any plan look
    costly enough to compile: JIT goes off too. Planning such a statement took
    three times as long as running it, so it is prepared, and its generic plan,
    made under these settings, serves every later call on the connection. The
    settings come first in each call's transaction, so that a plan made again
    (after an ``ANALYZE``, say) is made under them too; inside the caller's
    transaction they hold to its end.

    On an autocommit connection (the API's) the two statements go in one pipeline:
    the server runs what it receives before a sync in one implicit transaction, so
    the settings hold for the statement and end with it, in one round trip where a
    transaction of its own took four (``BEGIN``, the settings, the statement,
    ``COMMIT``).
    """

    def run(cur: psycopg.Cursor[Any], s: str) -> list[Row]:
        if conn.autocommit:
            with conn.pipeline():
                cur.execute(_INDEX_ONLY)
                cur.execute(statement(s), params, prepare=True)
            return cur.fetchall()
        with conn.transaction():
            cur.execute(_INDEX_ONLY)
            return cur.execute(statement(s), params, prepare=True).fetchall()

    return _retrying(conn, run)


def _retrying(
    conn: Connection[Any], run: Callable[[psycopg.Cursor[Any], str], list[Row]]
) -> list[Row]:
    generation = _seen.generation
    for _ in range(3):
        if generation is None:
            generation = _pointer(conn)
        try:
            with _atomic(conn), conn.cursor(row_factory=tuple_row) as cur:
                rows = run(cur, schema(generation))
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
            # Swapped and dropped meanwhile: ask the pointer. If it still names this
            # generation, it was built in an older format and is being replaced.
            missing, generation = generation, _pointer(conn)
            if generation == missing:
                raise Rebuilding("the read models are being rebuilt in a new format") from None
            continue
        if not rows:
            raise NotProjected("the projector has not built the read models yet")
        live = int(rows[0][0])
        if live == generation:
            _seen.generation = generation
            return rows
        generation = live
    raise RuntimeError("the live read model kept changing under a read")


def _pointer(conn: Connection[Any]) -> int:
    try:
        with _atomic(conn):
            generation = tables.live_generation(conn)
    except psycopg.errors.UndefinedTable:  # not even the pointer: no projector ever ran
        generation = None
    if generation is None:
        raise NotProjected("the projector has not built the read models yet")
    return generation


def _atomic(conn: Connection[Any]) -> AbstractContextManager[Any]:
    # On an autocommit connection one statement is atomic on its own; inside a
    # transaction a savepoint lets a failed attempt be retried.
    return nullcontext() if conn.autocommit else conn.transaction()
