"""Group commit: submissions that arrive together share one transaction, each answered alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import msgspec
import psycopg
import pytest

from conftest import example_report
from watchlist.domain.contract import ReportBody
from watchlist.domain.errors import IdempotencyKeyReused, InvalidInput
from watchlist.group_commit import GroupCommit, GroupCommitClosed
from watchlist.submissions import Submission
from watchlist.views import Principal


def transactions_of(database: Any, report_ids: list[UUID]) -> dict[UUID, int]:
    """The id of the transaction that wrote each report's first event (its row's xmin)."""
    with psycopg.connect(database.url) as conn:
        rows = conn.execute(
            "SELECT originator_id, xmin::text::bigint FROM watchlist_events "
            "WHERE originator_id = ANY(%s) AND originator_version = 1",
            (report_ids,),
        ).fetchall()
    return dict(rows)


def body(**changes: Any) -> ReportBody:
    document = example_report() | changes
    return msgspec.convert(document, ReportBody)


def principal_of(watchlist: Any, member: Any) -> Principal:
    found = watchlist.authenticate(member.keys["reporter"])
    assert found is not None
    return found  # type: ignore[no-any-return]


def test_queued_submissions_share_one_transaction_and_a_bad_one_fails_alone(
    watchlist, member, database, rows_containing
):
    principal = principal_of(watchlist, member)
    first_batch_started, release = threading.Event(), threading.Event()

    def write(batch: list[Submission]) -> Any:
        first_batch_started.set()
        release.wait(10)  # hold the writer so that the next submissions queue up together
        return watchlist.submit_reports(batch)

    writer = GroupCommit(write, name="test-submissions")
    try:
        opener = writer.submit(Submission(principal, body()))
        assert first_batch_started.wait(10)
        earlier = watchlist.submit_report(principal, body(), "call-17")
        bad = body(indicators=[{"code": "no_such_indicator", "grade": "reported"}])
        queued = [
            writer.submit(Submission(principal, body())),
            writer.submit(Submission(principal, bad)),
            writer.submit(Submission(principal, body(), "call-17")),  # same key, other body
            writer.submit(Submission(principal, body())),
            writer.submit(Submission(principal, body(), "call-18")),
        ]
        release.set()
        opener.result(10)

        good = [queued[i].result(10) for i in (0, 3, 4)]
        with pytest.raises(InvalidInput) as invalid:
            queued[1].result(10)
        with pytest.raises(IdempotencyKeyReused):
            queued[2].result(10)
    finally:
        writer.close()

    assert invalid.value.errors[0].path == "$.indicators[0].code"
    ids = [recorded.id for recorded in good]
    assert len(set(ids)) == 3
    assert earlier.id not in ids
    transactions = transactions_of(database, ids)
    assert len(transactions) == 3
    assert len(set(transactions.values())) == 1, "the queued submissions share one transaction"
    assert [r.position for r in good] == sorted(r.position for r in good), "arrival order kept"
    assert writer.batches == 2
    assert rows_containing("no_such_indicator") == []


def test_a_key_repeated_within_one_batch_is_recorded_once(watchlist, member):
    principal = principal_of(watchlist, member)
    same = body()
    outcomes = watchlist.submit_reports(
        [Submission(principal, same, "call-21"), Submission(principal, same, "call-21")]
    )

    assert outcomes[0].id == outcomes[1].id
    assert (outcomes[0].replayed, outcomes[1].replayed) == (False, True)


def test_a_closed_writer_refuses_new_work_after_committing_what_was_queued(watchlist, member):
    principal = principal_of(watchlist, member)
    writer = GroupCommit(watchlist.submit_reports, name="test-close")
    pending = writer.submit(Submission(principal, body()))
    writer.close()

    assert pending.result(10).version == 1
    with pytest.raises(GroupCommitClosed):
        writer.submit(Submission(principal, body()))


def test_concurrent_api_clients_share_transactions_and_get_their_own_answers(
    client, member, database
):
    bodies = [example_report() for _ in range(64)]
    bodies[17]["indicators"] = [{"code": "no_such_indicator", "grade": "reported"}]

    def post(document: dict[str, Any]) -> Any:
        return client.post(
            "/v1/reports", json=document, headers=member.headers("reporter", Prefer="wait=0")
        )

    with ThreadPoolExecutor(32) as pool:
        responses = list(pool.map(post, bodies))

    statuses = [r.status_code for r in responses]
    assert statuses[17] == 422
    assert responses[17].json()["errors"] == [
        {"path": "$.indicators[0].code", "message": "unknown indicator code 'no_such_indicator'"}
    ]
    assert statuses[:17] + statuses[18:] == [201] * 63
    ids = [UUID(r.json()["id"]) for i, r in enumerate(responses) if i != 17]
    assert len(set(ids)) == 63
    transactions = transactions_of(database, ids)
    assert len(transactions) == 63
    assert len(set(transactions.values())) < 63, "no two submissions shared a transaction"


def test_a_caller_that_stops_waiting_neither_loses_its_write_nor_fails_the_others():
    written: list[list[str]] = []
    release = threading.Event()

    def write(batch: list[str]) -> list[str]:
        release.wait(10)
        written.append(batch)
        return [item.upper() for item in batch]

    writer: GroupCommit[str, str] = GroupCommit(write, name="test-cancel")
    try:
        opener = writer.submit("opener")  # holds the writer while the rest queue up
        gone, kept = writer.submit("gone"), writer.submit("kept")
        assert gone.cancel()
        release.set()

        assert (opener.result(10), kept.result(10)) == ("OPENER", "KEPT")
        assert writer.submit("later").result(10) == "LATER", "the writer still answers"
    finally:
        writer.close()
    assert [item for batch in written for item in batch] == ["opener", "gone", "kept", "later"]


def test_callers_on_an_event_loop_get_their_own_outcomes():
    release = threading.Event()

    def write(batch: list[str]) -> list[str | Exception]:
        release.wait(10)
        return [ValueError(item) if item == "bad" else item.upper() for item in batch]

    writer: GroupCommit[str, str] = GroupCommit(write, name="test-async")

    async def main() -> list[str | BaseException]:
        opener = asyncio.create_task(writer.commit("opener"))
        await asyncio.sleep(0)  # the opener reaches the writer, which holds it
        tasks = [asyncio.create_task(writer.commit(item)) for item in ("a", "bad", "gone", "b")]
        await asyncio.sleep(0)
        tasks[2].cancel()
        release.set()
        await opener
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        a, bad, gone, b = asyncio.run(main())
    finally:
        writer.close()
    assert (a, b) == ("A", "B")
    assert isinstance(bad, ValueError)
    assert str(bad) == "bad"
    assert isinstance(gone, asyncio.CancelledError)


def test_a_busy_writer_keeps_its_session_and_leaves_it_after_a_failed_batch():
    """The writers hold a connection while work keeps coming; a failed batch gives its back."""
    seen: list[object] = []
    started, release, left = threading.Event(), threading.Event(), threading.Semaphore(0)

    @contextmanager
    def session() -> Iterator[None]:
        seen.append("enter")
        try:
            yield
        finally:
            seen.append("leave")
            left.release()

    def write(batch: list[str]) -> list[str]:
        started.set()
        release.wait(10)
        if "fail" in batch:
            raise RuntimeError("the connection broke")
        seen.append(batch)
        return batch

    writer: GroupCommit[str, str] = GroupCommit(write, name="test-session", session=session)
    try:
        first = writer.submit("a")
        assert started.wait(10)
        queued = [writer.submit("b"), writer.submit("c")]
        release.set()
        assert [f.result(10) for f in (first, *queued)] == ["a", "b", "c"]
        assert left.acquire(timeout=10)
        with pytest.raises(RuntimeError):
            writer.submit("fail").result(10)
        assert left.acquire(timeout=10)
        assert writer.submit("d").result(10) == "d"
    finally:
        writer.close()
    assert seen == [
        *("enter", ["a"], ["b", "c"], "leave"),
        *("enter", "leave"),
        *("enter", ["d"], "leave"),
    ]


def test_a_writer_that_never_idles_still_renews_its_session():
    """A held connection goes back to the pool (to be checked, and retired when old) even
    under load that never lets the writer idle."""
    seen: list[object] = []
    started, release = threading.Event(), threading.Event()

    @contextmanager
    def session() -> Iterator[None]:
        seen.append("enter")
        yield
        seen.append("leave")

    def write(batch: list[str]) -> list[str]:
        started.set()
        release.wait(10)
        seen.append(batch)
        return batch

    writer: GroupCommit[str, str] = GroupCommit(
        write, name="test-renew", session=session, session_seconds=0
    )
    try:
        first = writer.submit("a")
        assert started.wait(10)
        queued = [writer.submit("b"), writer.submit("c")]
        release.set()
        assert [f.result(10) for f in (first, *queued)] == ["a", "b", "c"]
    finally:
        writer.close()
    assert seen == [*("enter", ["a"], "leave"), *("enter", ["b", "c"], "leave")]
