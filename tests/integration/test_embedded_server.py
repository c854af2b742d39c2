"""The embedded server's own configuration: sized for bulk imports, durable, and stopped
by its last user even when it was restarted to take it."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from watchlist.database import embedded_settings


def test_the_embedded_server_checkpoints_rarely_and_stays_durable(database):
    if not database.embedded:
        pytest.skip("an external server is configured by whoever runs it (see compose.yaml)")
    names = ["max_wal_size", "checkpoint_timeout", "shared_buffers", "fsync", "synchronous_commit"]
    with psycopg.connect(database.url) as conn:
        shown = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}

    assert embedded_settings()["shared_buffers"] in {"256MB", "512MB", "1GB", "2GB"}  # 2+ GB
    assert shown == {
        "max_wal_size": "4GB",
        "checkpoint_timeout": "15min",
        "shared_buffers": embedded_settings()["shared_buffers"],
        "fsync": "on",
        "synchronous_commit": "on",
    }


def test_a_new_server_restarted_for_its_buffers_stops_with_its_last_user(tmp_path):
    start = (
        "import sys, pathlib, psycopg\n"
        "from watchlist.database import start_embedded\n"
        "database = start_embedded(pathlib.Path(sys.argv[1]))\n"
        "with psycopg.connect(database.url) as conn:\n"
        "    print(conn.execute('SHOW shared_buffers').fetchone()[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", start, str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == embedded_settings()["shared_buffers"]
    assert not (tmp_path / "postgres" / "postmaster.pid").exists()  # stopped on exit
