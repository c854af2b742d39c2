"""Liveness and readiness: no key needed."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency

from projector.rebuild import status as projector_status
from watchlist.api.openapi import responses
from watchlist.application import Watchlist


class ProjectorHealth(msgspec.Struct, frozen=True, kw_only=True):
    head: int
    position: int
    lag: int
    running: bool
    stalled: bool


class Health(msgspec.Struct, omit_defaults=True):
    status: str
    database: str | None = None
    projector: ProjectorHealth | None = None


READY = {
    "status": "ok",
    "database": "ok",
    "projector": {"head": 42, "position": 42, "lag": 0, "running": True, "stalled": False},
}


@get(
    "/health/live",
    operation_id="live",
    summary="The process answers",
    tags=["health"],
    security=[],
    responses=responses(200, Health, {"status": "ok"}, "alive"),
)
async def live() -> Health:
    return Health(status="ok")


@get(
    "/health/ready",
    operation_id="ready",
    summary="The database answers and the projector keeps up",
    tags=["health"],
    security=[],
    sync_to_thread=True,
    responses=responses(200, Health, READY, "ready")
    | responses(503, Health, {"status": "unavailable", "database": "unreachable"}, "not ready"),
)
def ready(watchlist: NamedDependency[Watchlist]) -> Response[Health]:
    try:
        with watchlist.connection() as conn:
            found = projector_status(conn)
    except Exception:  # any failure to answer is "not ready"
        return Response(Health(status="unavailable", database="unreachable"), status_code=503)
    stalled = found.stalled(datetime.now(UTC))
    projector = ProjectorHealth(
        head=found.head,
        position=found.position,
        lag=found.lag,
        running=found.running,
        stalled=stalled,
    )
    if stalled:
        return Response(
            Health(status="stalled", database="ok", projector=projector), status_code=503
        )
    return Response(Health(status="ok", database="ok", projector=projector))
