"""The embedded server's own configuration: a log sized for bulk imports, durability on."""

from __future__ import annotations

import psycopg
import pytest

from watchlist.database import EMBEDDED_SETTINGS


def test_the_embedded_server_checkpoints_rarely_and_stays_durable(database):
    if not database.embedded:
        pytest.skip("an external server is configured by whoever runs it (see compose.yaml)")
    names = [*EMBEDDED_SETTINGS, "fsync", "synchronous_commit", "full_page_writes"]
    with psycopg.connect(database.url) as conn:
        shown = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}

    assert shown == {
        "max_wal_size": "4GB",
        "checkpoint_timeout": "15min",
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
    }
