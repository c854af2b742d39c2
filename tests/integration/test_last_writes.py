"""A batch's last writes, gathered and sent as one statement (``projector.writing.Writes``),
and the transaction the runner begins and ends around them."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import msgspec
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import SIGNING_SEED, example_report, own_log
from projector import tables
from projector.audit import chained_head
from projector.chain import Chain
from projector.chain import ensure_tables as ensure_chain_tables
from projector.following import event_recorder
from projector.runner import ProjectorRunner, ensure_live_generation, tracked_position
from projector.writing import Writes, copy_rows
from watchlist.domain.contract import ReportBody

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


def test_a_table_without_json_is_copied_in_binary_as_the_statement_would_write_it(conn):
    """Binary COPY: every type the read models use, a text holding U+0000 stored with
    U+FFFD in its place (the server would refuse the whole COPY), NULLs kept."""
    conn.execute(
        "CREATE TEMP TABLE plain (id uuid, at timestamptz, note text, blob bytea, n bigint, "
        "rank smallint, score integer, seen boolean)"
    )
    table = "plain (id, at, note, blob, n, rank, score, seen)"
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    rows = [
        (uuid4(), at, "paid\x00in cash", b"\x00\x01", 1, 2, 70, True),
        (uuid4(), None, None, None, 2, None, None, None),
        (uuid4(), at, "ТОО «Рай за границей»", b"", 3, -1, 0, False),
    ]
    with conn.cursor() as cur:
        copy_rows(cur, table, rows)
        copied = cur.execute("SELECT * FROM plain ORDER BY n").fetchall()
        cur.execute("TRUNCATE plain")
        writes = Writes(cur)
        copy_rows(writes, table, rows)
        writes.send()
        gathered = cur.execute("SELECT * FROM plain ORDER BY n").fetchall()

    assert copied == gathered
    assert copied[0] == (rows[0][0], at, "paid\ufffdin cash", b"\x00\x01", 1, 2, 70, True)
    assert copied[1] == (rows[1][0], None, None, None, 2, None, None, None)
    assert copied[2] == rows[2]


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


def test_a_batch_that_fails_part_way_writes_nothing_and_the_next_try_projects_it(database):
    """The runner begins a batch in its first message and commits it itself: a batch that
    fails after writing rolls back whole, and leaves the connection ready for the next."""
    with own_log(database, "watchlist_failed_batch_", "Failed batch hotline") as (db, app, who):
        report = app.submit_report(who, msgspec.convert(example_report(), ReportBody))
        recorder = event_recorder(db)
        chain = Chain(Ed25519PrivateKey.from_private_bytes(SIGNING_SEED))
        runner = ProjectorRunner(db, app.taxonomy, chain)
        apply = runner.projection.apply

        def fail_after_writing(conn, batch, writes=None):
            apply(conn, batch, writes)
            writes.send()  # every write so far reaches the server, in the transaction
            raise RuntimeError("the batch fails here")

        try:
            with psycopg.connect(db.url, autocommit=True) as conn:
                live = ensure_live_generation(conn)
                ensure_chain_tables(conn)
                batch = recorder.select_notifications(start=0, limit=100)
                runner.projection.apply = fail_after_writing
                with pytest.raises(RuntimeError, match="fails here"):
                    runner.commit(conn, batch)

                assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                schema = tables.schema_name(live)
                reports = f'SELECT count(*) FROM "{schema}".reports'
                assert conn.execute(reports).fetchone() == (0,)
                assert tracked_position(conn) == 0
                assert chained_head(conn) == 0

                runner.projection.apply = apply
                runner.commit(conn, batch)
                assert conn.execute(reports).fetchone() == (1,)
                assert tracked_position(conn) == chained_head(conn) == report.position
        finally:
            recorder.datastore.close()
