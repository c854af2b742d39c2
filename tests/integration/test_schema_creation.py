"""The API and the projector create the shared schema one after the other, never at once.

Started together (compose.yaml starts both), they both made or replaced the function
``watchlist_append_only``; two concurrent CREATE OR REPLACE of one function fail
("tuple concurrently updated") and the projector stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

from projector.chain import ensure_tables as ensure_chain_tables
from projector.following import event_recorder
from watchlist.persistence import SCHEMA_LOCK


def test_the_audit_chain_waits_for_whoever_is_creating_the_schema(database):
    done = threading.Event()

    def create_chain_tables() -> None:
        with psycopg.connect(database.url, autocommit=True) as conn:
            ensure_chain_tables(conn)
        done.set()

    with psycopg.connect(database.url) as creator:
        creator.execute(SCHEMA_LOCK)  # as the write side's creation holds it
        thread = threading.Thread(target=create_chain_tables)
        thread.start()
        waited = not done.wait(1.0)
        creator.commit()
    finished = done.wait(30)
    thread.join(30)

    assert waited, "the chain's tables were created while another creator held the schema"
    assert finished


def test_the_api_and_the_projector_starting_together_both_start(database, watchlist):
    # `watchlist serve` and `watchlist projector` start at once (compose.yaml, the bench):
    # each makes or replaces the event store's tables and functions as it starts. Both
    # used to run the library's CREATE OR REPLACE FUNCTION outside the schema's lock, and
    # one of them could stop with "tuple concurrently updated".
    failures: list[BaseException] = []

    def projector_starts() -> None:
        event_recorder(database).datastore.close()

    def start(create: Callable[[], object], barrier: threading.Barrier) -> None:
        try:
            barrier.wait(10)
            create()
        except BaseException as exc:
            failures.append(exc)

    for _ in range(15):
        barrier = threading.Barrier(4)
        starters = [
            threading.Thread(target=start, args=(create, barrier))
            for create in (watchlist.recorder.create_table, projector_starts) * 2
        ]
        for thread in starters:
            thread.start()
        for thread in starters:
            thread.join(60)

    assert failures == []
