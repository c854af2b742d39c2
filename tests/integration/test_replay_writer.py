"""The replay's COPY of timeline entries, sent by a thread while the fold goes on."""

from __future__ import annotations

import threading

import psycopg
import pytest

from projector import replay
from projector.replay import _QueuedWriter


def _copy(conn, rows):
    cur = conn.cursor()
    with cur.copy("COPY queued (n, text) FROM STDIN", writer=_QueuedWriter(cur)) as copy:
        for row in rows:
            copy.write_row(row)


def test_every_row_arrives_in_order_across_many_buffers(database):
    rows = [(n, f"entry {n} " + "x" * 200) for n in range(60_000)]  # about 400 buffers
    with psycopg.connect(database.url) as conn:
        conn.execute("CREATE TEMP TABLE queued (n int, text text, at bigserial)")
        _copy(conn, rows)
        stored = conn.execute("SELECT n, text FROM queued ORDER BY at").fetchall()
    assert stored == rows


def test_a_row_the_server_refuses_fails_the_copy_and_writes_nothing(database):
    with psycopg.connect(database.url) as conn:
        conn.execute("CREATE TEMP TABLE queued (n int, text text)")
        conn.commit()
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            _copy(conn, [(1, "a"), ("two", "b"), (3, "c")])
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM queued").fetchone() == (0,)


def test_a_connection_lost_mid_copy_is_an_error_not_a_hang(database, monkeypatch):
    monkeypatch.setattr(replay, "ENTRIES_QUEUED", 2)  # the writer waits on a full queue
    with psycopg.connect(database.url) as conn, psycopg.connect(database.url) as other:
        conn.execute("CREATE TEMP TABLE queued (n int, text text)")
        pid = conn.info.backend_pid

        def rows():
            for n in range(2_000_000):
                if n == 1_000:
                    other.execute("SELECT pg_terminate_backend(%s)", (pid,))
                yield n, "x" * 100

        failed: list[BaseException] = []

        def copy():
            try:
                _copy(conn, rows())
            except BaseException as exc:
                failed.append(exc)

        copying = threading.Thread(target=copy, daemon=True)
        copying.start()
        copying.join(60)
        assert not copying.is_alive(), "the copy hangs on a lost connection"
    assert [type(exc) for exc in failed] == [psycopg.OperationalError]
