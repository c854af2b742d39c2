"""The API and the projector create the shared schema one after the other, never at once.

Started together (compose.yaml starts both), they both made or replaced the function
``watchlist_append_only``; two concurrent CREATE OR REPLACE of one function fail
("tuple concurrently updated") and the projector stopped.
"""

from __future__ import annotations

import threading

import psycopg

from projector.chain import ensure_tables as ensure_chain_tables
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
