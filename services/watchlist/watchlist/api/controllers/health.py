"""Liveness and readiness."""

from __future__ import annotations

import msgspec
from litestar import Response, get

from watchlist.application import Watchlist


class Health(msgspec.Struct):
    status: str
    database: str | None = None


@get("/health/live", operation_id="live", summary="The process answers", tags=["health"],
     responses=None)
async def live() -> Health:
    return Health(status="ok")


@get("/health/ready", operation_id="ready", summary="The database answers", tags=["health"],
     sync_to_thread=True)
def ready(watchlist: Watchlist) -> Response[Health]:
    if watchlist.database_ok():
        return Response(Health(status="ok", database="ok"))
    return Response(Health(status="unavailable", database="unreachable"), status_code=503)
