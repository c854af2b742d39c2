"""Auditors' endpoints: the access log, the signing key, checkpoints and the chained log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from projector import audit
from watchlist.access import AccessPage
from watchlist.api.auth import allow
from watchlist.api.openapi import responses
from watchlist.application import Watchlist

AUDITORS = allow("auditor", "admin")
EXAMPLE_CHECKPOINT = {
    "type": "checkpoint",
    "position": 1000,
    "hash": "9f2c…",
    "signature": "base64…",
    "public_key": "base64…",
    "signed_at": "2026-10-03T09:15:00+00:00",
}


class PublicKeys(msgspec.Struct, frozen=True):
    algorithm: str
    public_keys: list[str]


class Checkpoints(msgspec.Struct, frozen=True):
    items: list[dict[str, Any]]


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["audit"]  # noqa: RUF012 - Litestar's class attribute
    guards = [AUDITORS]  # noqa: RUF012

    @get(
        "/access",
        operation_id="readAccessLog",
        summary="Who read or changed what, and when",
        sync_to_thread=True,
        responses=responses(
            200,
            AccessPage,
            {"items": [], "next_cursor": None},
            "a page of the access log, newest first",
            400,
            401,
            403,
            422,
        ),
    )
    def access(
        self,
        watchlist: NamedDependency[Watchlist],
        org: Annotated[UUID | None, QueryParameter(description="organisation id")] = None,
        firm: Annotated[UUID | None, QueryParameter()] = None,
        report: Annotated[UUID | None, QueryParameter()] = None,
        since: Annotated[datetime | None, QueryParameter()] = None,
        until: Annotated[datetime | None, QueryParameter()] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> AccessPage:
        return watchlist.access_log(
            organisation=org,
            firm=firm,
            report=report,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        )

    @get(
        "/public-key",
        operation_id="auditPublicKey",
        summary="The Ed25519 keys that sign checkpoints (base64, raw 32 bytes)",
        sync_to_thread=True,
        responses=responses(
            200, PublicKeys, {"algorithm": "Ed25519", "public_keys": ["…"]}, "the keys", 401, 403
        ),
    )
    def public_key(self, watchlist: NamedDependency[Watchlist]) -> PublicKeys:
        with watchlist.connection() as conn:
            return PublicKeys(algorithm="Ed25519", public_keys=audit.public_keys(conn))

    @get(
        "/checkpoints",
        operation_id="auditCheckpoints",
        summary="Signed checkpoints of the log",
        sync_to_thread=True,
        responses=responses(
            200, Checkpoints, {"items": [EXAMPLE_CHECKPOINT]}, "checkpoints", 400, 401, 403
        ),
    )
    def checkpoints(
        self,
        watchlist: NamedDependency[Watchlist],
        after: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
    ) -> Checkpoints:
        with watchlist.connection() as conn:
            return Checkpoints(items=audit.checkpoints(conn, after, limit))

    @get(
        "/events",
        operation_id="exportEvents",
        summary="The chained event log as NDJSON, checkpoints interleaved; states as stored",
        sync_to_thread=True,
        media_type="application/x-ndjson",
        responses=responses(
            200, str, '{"type": "event", "position": 1, …}', "NDJSON lines", 400, 401, 403
        ),
    )
    def events(
        self,
        watchlist: NamedDependency[Watchlist],
        after: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
    ) -> Response[bytes]:
        with watchlist.connection() as conn:
            lines = list(audit.export_lines(conn, after, limit))
        body = "".join(line + "\n" for line in lines).encode()
        return Response(body, media_type="application/x-ndjson")
