"""The API's side of read-your-writes: wait for the projector, then read what it made."""

from __future__ import annotations

import re
import time
from uuid import UUID

from projector import queries
from watchlist.application import Watchlist
from watchlist.views import Principal

DEFAULT_WAIT = 2.0
MAX_WAIT = 10.0
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait=(\d+(?:\.\d+)?)")


def wait_seconds(prefer: str | None) -> float:
    """``Prefer: wait=N`` (RFC 7240) caps the wait; ``wait=0`` answers at once."""
    if prefer and (found := _PREFER_WAIT.search(prefer)):
        return min(float(found[1]), MAX_WAIT)
    return DEFAULT_WAIT


def wait_until_projected(watchlist: Watchlist, position: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        with watchlist.connection() as conn:
            if queries.projected_position(conn) >= position:
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def firm_of_report(
    watchlist: Watchlist, principal: Principal, report_id: UUID
) -> tuple[UUID, str] | None:
    with watchlist.connection() as conn:
        return queries.report_firm(conn, principal.organisation_id, report_id)
