"""Liveness and readiness: no key needed."""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency

from watchlist.api.openapi import responses
from watchlist.application import Watchlist


class Health(msgspec.Struct, omit_defaults=True):
    status: str
    database: str | None = None


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
    summary="The database answers",
    tags=["health"],
    security=[],
    sync_to_thread=True,
    responses=responses(200, Health, {"status": "ok", "database": "ok"}, "ready")
    | responses(503, Health, {"status": "unavailable", "database": "unreachable"}, "not ready"),
)
def ready(watchlist: NamedDependency[Watchlist]) -> Response[Health]:
    if watchlist.database_ok():
        return Response(Health(status="ok", database="ok"))
    return Response(Health(status="unavailable", database="unreachable"), status_code=503)
