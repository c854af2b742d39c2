"""Readiness tells an operator when the projector falls behind, and the CLI says by how much."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import example_report

WATCHLIST = str(Path(sys.executable).with_name("watchlist"))


def test_ready_fails_while_the_projector_is_down_and_behind(client, member, projector):
    projector.stop()
    try:
        answer = client.post(
            "/v1/reports", json=example_report(), headers=member.headers(Prefer="wait=0.2")
        ).json()
        down = client.get("/health/ready")
    finally:
        projector.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if client.get("/health/ready").json()["projector"]["lag"] == 0:
            break
        time.sleep(0.05)
    up = client.get("/health/ready")

    assert answer["projected"] is False
    assert answer["firm_id"] is None
    assert down.status_code == 503
    assert down.json()["status"] == "stalled"
    assert down.json()["projector"]["lag"] >= 1
    assert down.json()["projector"]["running"] is False
    assert up.status_code == 200
    assert up.json()["projector"]["lag"] == 0


def test_projector_status_prints_head_position_and_lag(client, member, database, master_key):
    client.post("/v1/reports", json=example_report(), headers=member.headers())
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHLIST_")}
    env |= {
        "WATCHLIST_DATABASE_URL": database.url,
        "WATCHLIST_MASTER_KEY": base64.b64encode(master_key).decode(),
    }

    done = subprocess.run(
        [WATCHLIST, "projector", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(done.stdout)

    assert found["lag"] == 0
    assert found["head"] == found["position"] > 0
    assert found["running"] is True


def test_a_second_projector_stands_by_and_takes_over_when_the_first_stops(
    client, member, projector, new_projector
):
    from projector.runner import run_in_thread

    standby = new_projector()
    thread, stop = run_in_thread(standby)
    try:
        time.sleep(1.5)
        assert not standby.holds_lock.is_set(), "two projectors must never both write"
        projector.stop()
        assert standby.holds_lock.wait(10), "the standby never took over"
        answer = client.post("/v1/reports", json=example_report(), headers=member.headers()).json()
        assert answer["projected"] is True
    finally:
        stop.set()
        thread.join(30)
        projector.start()


def test_a_dropped_listening_connection_never_stalls_the_projector(client, member, database):
    import psycopg

    # A projector that has just taken its lock (after the test before) listens a moment later.
    deadline = time.monotonic() + 10
    with psycopg.connect(database.url, autocommit=True) as conn:
        while True:
            killed = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN %%' AND pid <> pg_backend_pid()"
            ).fetchall()
            if killed or time.monotonic() > deadline:
                break
            time.sleep(0.1)

    answer = client.post(
        "/v1/reports", json=example_report(), headers=member.headers(Prefer="wait=10")
    ).json()

    assert killed, "no listening connection was found to drop"
    assert answer["projected"] is True
