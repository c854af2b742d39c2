"""A log the audit chain does not reach yet is chained a step at a time, while reports flow."""

from __future__ import annotations

import time

import msgspec
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import SIGNING_SEED, example_report, own_log
from projector.audit import chained_head, verify_database
from projector.chain import Chain
from projector.rebuild import rebuild
from projector.runner import ProjectorRunner, run_in_thread, tracked_position
from watchlist.database import Database
from watchlist.domain.contract import ReportBody

KEY = Ed25519PrivateKey.from_private_bytes(SIGNING_SEED)


def _head(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT max(notification_id) FROM watchlist_events").fetchone()[0]


def test_an_imported_log_is_chained_in_steps_and_new_reports_still_project(database: Database):
    with own_log(database, "watchlist_chain_", "Importing hotline") as (db, app, principal):
        for _ in range(40):
            app.submit_report(principal, msgspec.convert(example_report(), ReportBody))
        # As after `watchlist import` and `watchlist projector rebuild`: the read models
        # hold the whole log, the chain none of it.
        rebuild(db, app.taxonomy)
        runner = ProjectorRunner(
            db, app.taxonomy, Chain(KEY, every=10, seconds=60, step=5), poll_interval=0.1
        )
        thread, stop = run_in_thread(runner)
        try:
            late = app.submit_report(principal, msgspec.convert(example_report(), ReportBody))
            with psycopg.connect(db.url, autocommit=True) as conn:
                head = _head(conn)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and (
                    tracked_position(conn) < head or chained_head(conn) < head
                ):
                    time.sleep(0.05)
                projected, chained = tracked_position(conn), chained_head(conn)
                transactions = conn.execute(
                    "SELECT count(DISTINCT xmin::text) FROM watchlist_chain"
                ).fetchone()[0]
                verdict = verify_database(conn, KEY.public_key())
        finally:
            stop.set()
            thread.join(30)

    assert late.position == head
    assert (projected, chained) == (head, head)
    # An organisation, its key, 41 reports: 43 events, chained 5 at most per transaction.
    assert verdict.ok, verdict
    assert verdict.events == head == 43
    assert verdict.checkpoints >= 4
    assert transactions >= 9
