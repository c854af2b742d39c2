"""A batch's last writes, gathered and sent as one statement (``projector.writing.Writes``)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import psycopg
import pytest

from projector.writing import Writes, copy_rows

ROWS = "written (id, at, body, note, blob, n)"


@pytest.fixture
def conn(database):
    with psycopg.connect(database.url) as conn:
        conn.execute(
            "CREATE TEMP TABLE written (id uuid PRIMARY KEY, at timestamptz, body jsonb, "
            "note text, blob bytea, n bigint)"
        )
        conn.execute("CREATE TEMP TABLE counter (n int)")
        conn.execute("INSERT INTO counter VALUES (0)")
        conn.commit()
        yield conn


def _written(conn):
    return conn.execute("SELECT id, at, body, note, blob, n FROM written ORDER BY n").fetchall()


def test_gathered_rows_arrive_in_one_statement_as_a_copy_would_write_them(conn):
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    rows = [
        (uuid4(), at, '{"fee": 900}', "paid\x00in cash", b"\x00\x01", 1),
        (uuid4(), None, None, None, None, 2),
    ]
    with conn.cursor() as cur:
        writes = Writes(cur)
        copy_rows(writes, ROWS, rows[:1])
        writes.execute("UPDATE counter SET n = n + %s", (5,))
        copy_rows(writes, ROWS, rows[1:])
        assert _written(conn) == []  # gathered, not sent
        writes.send("SELECT %s::text", ("sent",))
        assert cur.fetchone() == ("sent",)  # the main query's answer
    gathered = _written(conn)
    conn.execute("TRUNCATE written")
    with conn.cursor() as cur:
        copy_rows(cur, ROWS, rows)

    assert gathered == _written(conn)
    assert gathered[0] == (rows[0][0], at, {"fee": 900}, "paid\ufffdin cash", b"\x00\x01", 1)
    assert gathered[1] == (rows[1][0], None, None, None, None, 2)
    assert conn.execute("SELECT n FROM counter").fetchone() == (5,)


def test_one_refused_write_refuses_every_write_gathered_with_it(conn):
    same = uuid4()
    with conn.cursor() as cur:
        writes = Writes(cur)
        writes.execute("UPDATE counter SET n = n + %s", (1,))
        twice = [(same, None, None, "a", None, 1), (same, None, None, "b", None, 2)]
        copy_rows(writes, ROWS, twice)
        with pytest.raises(psycopg.errors.UniqueViolation):
            writes.send()
    conn.rollback()

    assert _written(conn) == []
    assert conn.execute("SELECT n FROM counter").fetchone() == (0,)


def test_nothing_gathered_sends_nothing(conn):
    with conn.cursor() as cur:
        Writes(cur).send()
        assert cur.pgresult is None  # no statement ran on it
