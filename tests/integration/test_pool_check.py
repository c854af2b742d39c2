"""A pooled connection the server dropped while it sat idle never reaches a request."""

from __future__ import annotations

import time

import psycopg

from watchlist import persistence
from watchlist.application import Watchlist


def test_a_connection_dropped_while_idle_is_replaced_before_it_is_lent(
    database, master_key, watchlist, monkeypatch
):
    monkeypatch.setattr(persistence, "CHECK_AFTER_IDLE_SECONDS", 0.2)
    env = database.eventsourcing_env() | {
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "0",
        "POSTGRES_PRE_PING": "y",
    }
    app = Watchlist(env, taxonomy=watchlist.taxonomy, master_key=master_key)
    try:
        with app.connection() as conn:
            dropped = conn.info.backend_pid
        with psycopg.connect(database.url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (dropped,))
        time.sleep(0.3)

        with app.connection() as conn:
            answered = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()

        assert answered is not None
        assert answered["pid"] != dropped
    finally:
        app.close()
