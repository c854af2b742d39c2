"""Exactly-once projection: kill the projector mid-batch, again and again, lose nothing."""

from __future__ import annotations

import base64
import copy
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import msgspec
import psycopg
import pytest

from conftest import SIGNING_SEED
from projector import tables
from projector.following import event_recorder
from projector.projection import Projection
from projector.rebuild import build, dump, status
from projector.runner import tracked_position
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.domain.contract import ReportBody

WATCHLIST = str(Path(sys.executable).with_name("watchlist"))


def _body(n: int, rng: random.Random) -> ReportBody:
    report = copy.deepcopy(EXAMPLE_REPORT)
    # Forty recruiters, each written in several ways, so reports keep merging into firms.
    k = rng.randrange(40)
    phone = rng.choice([f"+7 702 555 {k:04d}", f"8702555{k:04d}", f"8 (702) 555-{k:04d}"])
    report["subject"] = {
        "names": [rng.choice([f"ТОО «Агентство {k}»", f"Agentstvo {k} LLP"])],
        "country": "KZ",
        "identifiers": [{"kind": "phone", "value": phone}],
    }
    report["sharing"] = "private" if n % 9 == 0 else "partners"
    return msgspec.convert(report, ReportBody)


class Writer(threading.Thread):
    """Keeps submitting, amending and retracting reports while the projector is killed."""

    def __init__(self, watchlist, principals, count: int) -> None:
        super().__init__(daemon=True)
        self.watchlist, self.principals, self.count = watchlist, principals, count
        self.error: BaseException | None = None

    def run(self) -> None:
        rng = random.Random(2026)
        mine: list[tuple[object, object]] = []
        try:
            for n in range(self.count):
                principal = self.principals[n % len(self.principals)]
                recorded = self.watchlist.submit_report(principal, _body(n, rng))
                mine.append((principal, recorded.id))
                if n % 5 == 4:
                    who, report_id = mine[rng.randrange(len(mine))]
                    record = self.watchlist.get_report(who, report_id)
                    if record.status == "active":
                        self.watchlist.amend_report(
                            who, report_id, record.version, _body(n, rng), "caller called back"
                        )
                if n % 7 == 6:
                    who, report_id = mine[rng.randrange(len(mine))]
                    if self.watchlist.get_report(who, report_id).status == "active":
                        self.watchlist.retract_report(who, report_id, "wrong agency")
                time.sleep(0.03)
        except BaseException as exc:  # surfaced by the test
            self.error = exc


@pytest.fixture
def projector_env(database, master_key):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHLIST_")}
    env["WATCHLIST_DATABASE_URL"] = database.url
    env["WATCHLIST_MASTER_KEY"] = base64.b64encode(master_key).decode()
    env["WATCHLIST_SIGNING_KEY"] = base64.b64encode(SIGNING_SEED).decode()
    return env


def _start(env):
    return subprocess.Popen(
        [WATCHLIST, "projector", "--batch-size", "20", "--poll-interval", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _until_running(database, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(database.url, autocommit=True) as conn:
        while not status(conn).running and time.monotonic() < deadline:
            time.sleep(0.05)


def _head(conn) -> int:
    row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM watchlist_events").fetchone()
    return int(row[0])


def test_sigkill_mid_batch_many_times_then_read_models_equal_a_clean_rebuild(
    projector, database, watchlist, new_member, projector_env
):
    projector.stop()  # the subprocesses below are the only projector now
    try:
        members = [new_member(f"Crash org {n}") for n in range(3)]
        principals = [watchlist.authenticate(m.keys["reporter"]) for m in members]
        with psycopg.connect(database.url, autocommit=True) as conn:
            start = tracked_position(conn)
        writer = Writer(watchlist, principals, count=400)
        writer.start()
        rng, kills, positions = random.Random(7), 0, []
        while kills < 10 or writer.is_alive():
            process = _start(projector_env)
            _until_running(database)  # a busy machine may take seconds to start a process
            time.sleep(rng.uniform(0.3, 1.2))
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            kills += 1
            with psycopg.connect(database.url, autocommit=True) as conn:
                positions.append(tracked_position(conn))
        writer.join(60)
        assert writer.error is None, writer.error

        final = _start(projector_env)
        try:
            deadline = time.monotonic() + 120
            with psycopg.connect(database.url, autocommit=True) as conn:
                while not status(conn).running and time.monotonic() < deadline:
                    time.sleep(0.1)
                while tracked_position(conn) < _head(conn) and time.monotonic() < deadline:
                    time.sleep(0.2)
                head = _head(conn)
                assert tracked_position(conn) == head
        finally:
            final.send_signal(signal.SIGTERM)
            assert final.wait(30) == 0

        # Progress was made between kills, and the end state is what a clean replay makes.
        assert positions[-1] > start
        assert len(set(positions)) >= 5
        recorder = event_recorder(database)
        try:
            with psycopg.connect(database.url, autocommit=True) as conn:
                live = tables.live_generation(conn)
                assert live is not None
                clean, position, _ = build(conn, recorder, Projection(watchlist.taxonomy))
                try:
                    assert position == head
                    live_rows, clean_rows = dump(conn, live), dump(conn, clean)
                    for table in clean_rows:
                        assert live_rows[table] == clean_rows[table], table
                    assert len(clean_rows["firms"]) > 10
                finally:
                    tables.drop_generation(conn, clean)
        finally:
            recorder.datastore.close()
    finally:
        projector.start()


def test_the_projectors_log_lines_carry_their_time(
    projector, database, watchlist, member, projector_env
):
    """An operator reads a slow batch beside the lag it caused: each line says when."""
    projector.stop()  # the subprocess below is the only projector now
    try:
        principal = watchlist.authenticate(member.keys["reporter"])
        watchlist.submit_report(principal, _body(1, random.Random(1)))
        process = subprocess.Popen(
            [WATCHLIST, "projector", "--slow-batch-ms", "1", "--poll-interval", "0.1"],
            env=projector_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Should it never log, it is stopped and the line read is empty.
        deadline = threading.Timer(60, process.kill)
        deadline.start()
        try:
            assert process.stderr is not None
            line = process.stderr.readline()  # its first batch is over 1 ms
        finally:
            deadline.cancel()
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        assert re.match(
            r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING projector\.runner: slow batch: ", line
        ), line
    finally:
        projector.start()
