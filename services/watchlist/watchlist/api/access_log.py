"""Middleware that writes every authenticated request to the access log."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from watchlist.access import Access
from watchlist.views import Principal

PUBLIC = ("/v1/public/", "/check")  # the API's public check and the public page
_LOCATION = re.compile(rb"^/(?:v1|console)/(reports|firms)/([0-9a-f-]{36})")
_TOUCHED = "watchlist.touched"  # the entry's ids, in the request's state


def shown(
    request: ASGIConnection[Any, Any, Any, Any],
    *,
    firms: Iterable[UUID] = (),
    reports: Iterable[UUID | None] = (),
) -> None:
    """Names on the request's access-log entry the firms and reports its answer listed.

    A firm seen in a search or a check was seen as surely as one whose profile was
    opened: "who looked at firm X" must find both.
    """
    touched: dict[str, set[UUID]] = request.scope["state"][_TOUCHED]
    touched["firms"].update(firms)
    touched["reports"].update(r for r in reports if r is not None)


def _request_id() -> UUID:
    """A random (version 4) UUID that names one exchange, drawn without a system call.

    ``uuid4()`` reads ``os.urandom``, which lets go of the GIL around the call: on the
    event loop, under load, each request then waited for a writer thread to give the
    GIL back (about 0.2 ms of the loop's time per request). A request id needs to be
    unique, not secret: 122 random bits from the generator each process seeds from the
    system's randomness.
    """
    return UUID(int=random.getrandbits(128), version=4)


class AccessLog(ASGIMiddleware):
    """Runs inside authentication: it sees who asked, the route, the ids touched, the status."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        request_id = _request_id()
        status = 500
        touched: dict[str, set[UUID]] = {"reports": set(), "firms": set()}
        scope["state"][_TOUCHED] = touched

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                for name, value in headers:
                    if name.lower() == b"location" and (found := _LOCATION.match(value)):
                        touched[found[1].decode()].add(UUID(found[2].decode()))
                headers.append((b"x-request-id", str(request_id).encode()))
                message["headers"] = headers
            await send(message)

        try:
            await next_app(scope, receive, capture)
        finally:
            entry = self._entry(scope, request_id, status, touched, started)
            if entry is not None:
                # Shared with the requests that finish alongside (group commit): the
                # exchange ends only once its entry is committed.
                accesses = scope["litestar_app"].state.accesses
                await accesses.commit(entry)

    @staticmethod
    def _entry(
        scope: Scope,
        request_id: UUID,
        status: int,
        touched: dict[str, set[UUID]],
        started: float,
    ) -> Access | None:
        principal = scope.get("user")
        params: dict[str, Any] = scope.get("path_params") or {}
        if "report_id" in params:
            touched["reports"].add(params["report_id"])
        if "firm_id" in params:
            touched["firms"].add(params["firm_id"])
        who: dict[str, Any]
        if isinstance(principal, Principal):
            who = {
                "organisation_id": principal.organisation_id,
                "key_id": principal.key_id,
                "role": principal.role,
            }
        elif scope["path"].startswith(PUBLIC):
            client = scope.get("client")
            watchlist = scope["litestar_app"].state.watchlist
            who = {
                "organisation_id": None,
                "key_id": None,
                "role": "public",
                "client": watchlist.client_hash(client[0] if client else ""),
            }
        else:
            return None  # refused before anyone was known: nothing was read or changed
        return Access(
            at=datetime.now(UTC),
            request_id=request_id,
            method=cast("HTTPScope", scope)["method"],
            route=scope.get("path_template") or scope["path"],
            path=scope["path"],
            report_ids=sorted(touched["reports"]),
            firm_ids=sorted(touched["firms"]),
            status=status,
            latency_ms=(time.perf_counter() - started) * 1000,
            **who,
        )
