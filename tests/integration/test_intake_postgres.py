"""Report intake on real PostgreSQL: what is stored, and what concurrency cannot break."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
import psycopg
import pytest

from conftest import example_report
from watchlist.domain.contract import ReportBody
from watchlist.domain.errors import VersionMismatch
from watchlist.views import Principal

SECRETS = ["A. K.", "+77011234567", "calls back evenings"]


def _principal(watchlist: Any, member: Any) -> Principal:
    principal = watchlist.authenticate(member.keys["reporter"])
    assert principal is not None
    return principal  # type: ignore[no-any-return]


def _body(**changes: Any) -> ReportBody:
    return msgspec.convert(example_report() | changes, ReportBody)


def test_confidential_plaintext_is_nowhere_in_the_database(watchlist, rows_containing, member):
    principal = _principal(watchlist, member)
    recorded = watchlist.submit_report(principal, _body())
    watchlist.amend_report(principal, recorded.id, 1, _body(), "second call")

    for secret in SECRETS:
        assert rows_containing(secret) == [], secret
    # ...while the shareable parts are stored in clear, so the check can find things.
    assert "public.watchlist_events" in rows_containing("Tauke Khan")


def test_eight_concurrent_submissions_with_one_idempotency_key_make_one_report(
    watchlist, member, count_events
):
    principal = _principal(watchlist, member)
    before = count_events()
    body = _body()

    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda _: watchlist.submit_report(principal, body, "retry-storm"), range(8))
        )

    assert len({r.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert count_events() == before + 1


def test_two_concurrent_amendments_of_one_version_one_wins(watchlist, member):
    principal = _principal(watchlist, member)
    report_id = watchlist.submit_report(principal, _body()).id

    def amend(n: int) -> str:
        try:
            watchlist.amend_report(principal, report_id, 1, _body(narrative=f"call {n}"), "x")
        except VersionMismatch:
            return "refused"
        return "amended"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(amend, range(4)))

    assert outcomes == ["amended", "refused", "refused", "refused"]
    assert watchlist.get_report(principal, report_id).version == 2


def test_event_log_rows_are_only_ever_inserted(watchlist, database, member):
    principal = _principal(watchlist, member)
    recorded = watchlist.submit_report(principal, _body())
    with psycopg.connect(database.url) as conn:
        before = conn.execute(
            "SELECT state FROM watchlist_events WHERE originator_id = %s", (recorded.id,)
        ).fetchall()

    watchlist.amend_report(principal, recorded.id, 1, _body(narrative="new"), "second call")
    watchlist.retract_report(principal, recorded.id, "wrong firm")

    with psycopg.connect(database.url) as conn:
        after = conn.execute(
            "SELECT originator_version, state FROM watchlist_events "
            "WHERE originator_id = %s ORDER BY originator_version",
            (recorded.id,),
        ).fetchall()
    assert [v for v, _ in after] == [1, 2, 3]
    assert after[0][1] == before[0][0]


@pytest.mark.parametrize("role", ["reporter", "admin"])
def test_a_key_authenticates_as_its_organisation_and_role(watchlist, new_member, role):
    member = new_member()

    principal = watchlist.authenticate(member.keys[role])

    assert principal is not None
    assert principal.organisation_id == member.organisation_id
    assert principal.role == role
    assert watchlist.authenticate(member.keys[role] + "x") is None


def test_many_events_in_one_transaction_are_stored_together(
    watchlist, member, count_events, client
):
    """A bulk save of 500 reports once stalled in psycopg's pipeline mode on the embedded
    server's Unix socket; it must commit, and all or nothing."""
    import threading
    from uuid import uuid4

    from watchlist.domain.report import Report

    principal = _principal(watchlist, member)
    before = count_events()
    reports = [
        Report.submit(
            id=uuid4(),
            organisation_id=principal.organisation_id,
            key_id=principal.key_id,
            content=_body().content(),
            confidential=None,
        )
        for _ in range(500)
    ]
    saver = threading.Thread(target=watchlist.save, args=reports, daemon=True)
    saver.start()
    saver.join(120)

    assert not saver.is_alive(), "saving 500 events in one transaction hung"
    assert count_events() == before + 500
    # Leave no backlog for the next test's read-your-writes.
    for _ in range(600):
        if client.get("/health/ready").json()["projector"]["lag"] == 0:
            break
        time.sleep(0.05)


def _waiting_on_locks(database: Any, count: int) -> None:
    """Return once ``count`` sessions of this database wait on a lock (30 s at most)."""
    with psycopg.connect(database.url, autocommit=True) as conn:
        for _ in range(3000):
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None and row[0] >= count:
                return
            time.sleep(0.01)
    raise AssertionError(f"{count} sessions never waited on a lock")


def test_a_process_starting_while_reports_are_written_does_not_deadlock_them(
    watchlist, member, database
):
    """Every process runs the write side's DDL as it starts; it must take the tables in the
    writers' order (the events first), or a writer and a starting process deadlock."""
    from watchlist.persistence import TABLES

    principal = _principal(watchlist, member)

    def start_a_process() -> None:
        with psycopg.connect(database.url) as conn:
            for statement in TABLES:
                conn.execute(statement)

    with psycopg.connect(database.url) as holder, ThreadPoolExecutor(2) as pool:
        # Another writer's transaction holds the log: the submission and the start queue up.
        holder.execute("LOCK TABLE watchlist_events IN EXCLUSIVE MODE")
        submitted = pool.submit(watchlist.submit_report, principal, _body())
        _waiting_on_locks(database, 1)
        started = pool.submit(start_a_process)
        _waiting_on_locks(database, 2)
        holder.commit()
        recorded = submitted.result(60)
        started.result(60)

    assert watchlist.get_report(principal, recorded.id).version == 1


def test_a_vacuum_or_analyze_of_the_log_does_not_hold_up_submissions(watchlist, member, database):
    """VACUUM and ANALYZE hold the events table in SHARE UPDATE EXCLUSIVE mode for as long
    as they run. Autovacuum's ANALYZE of a busy log used to hold every writer up for a
    second, until PostgreSQL cancelled it, a minute at a time."""
    principal = _principal(watchlist, member)

    with psycopg.connect(database.url) as vacuum, ThreadPoolExecutor(1) as pool:
        vacuum.execute("LOCK TABLE watchlist_events IN SHARE UPDATE EXCLUSIVE MODE")
        try:
            submitted = pool.submit(watchlist.submit_report, principal, _body())
            recorded = submitted.result(10)
        finally:
            vacuum.rollback()

    assert watchlist.get_report(principal, recorded.id).version == 1


def test_appends_to_the_log_still_wait_for_one_another(watchlist, member, database):
    """Log order is commit order: while one writer's transaction is open, another's waits,
    whether the first is this version (the append lock) or an older one (the table lock)."""
    from watchlist.persistence import APPEND_LOCK

    principal = _principal(watchlist, member)
    for held in (APPEND_LOCK, "LOCK TABLE watchlist_events IN EXCLUSIVE MODE"):
        with psycopg.connect(database.url) as writer, ThreadPoolExecutor(1) as pool:
            writer.execute(held)
            submitted = pool.submit(watchlist.submit_report, principal, _body())
            _waiting_on_locks(database, 1)
            assert not submitted.done()
            writer.commit()
            recorded = submitted.result(60)
        assert watchlist.get_report(principal, recorded.id).version == 1
