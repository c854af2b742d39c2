"""Read-your-writes: a request waiting for its report is woken by the projector's batch."""

from __future__ import annotations

import threading
import time

from projector import queries
from projector.runner import wait_for
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.api.reading import ProjectionWatch


def test_a_waiter_wakes_when_the_projector_announces_its_batch(client, member, watchlist):
    """The watch's own reading is 30 s away: only the projector's announcement of the batch
    (NOTIFY) can wake the waiter within its 10 s."""
    with watchlist.connection() as conn:
        row = conn.execute("SELECT max(notification_id) AS head FROM watchlist_events").fetchone()
        head = int(row["head"])
        assert wait_for(lambda: queries.projected_position(conn) >= head, 10)
    watch = ProjectionWatch(watchlist, interval=30.0)
    woken: list[bool] = []
    try:
        waiter = threading.Thread(target=lambda: woken.append(watch.wait(head + 1, 10.0)))
        waiter.start()
        deadline = time.monotonic() + 10
        while watch.position < head and time.monotonic() < deadline:  # its first reading
            time.sleep(0.01)
        assert watch.position >= head

        answer = client.post(
            "/v1/reports", json=EXAMPLE_REPORT, headers=member.headers(Prefer="wait=0")
        )
        waiter.join(15)
    finally:
        watch.close()

    assert answer.status_code == 201
    assert answer.json()["position"] >= head + 1
    assert woken == [True]
