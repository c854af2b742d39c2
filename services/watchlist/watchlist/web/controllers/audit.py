"""Auditors' pages: the access log, the signed checkpoints, a verify run."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from projector import audit
from watchlist.api.controllers.audit import AUDITORS
from watchlist.application import Watchlist
from watchlist.views import Principal
from watchlist.web.pages import page
from watchlist.web.session import signed_in

ConsoleRequest = Request[Principal, Any, Any]


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def _uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text.strip()) if text else None
    except ValueError:
        return None


class AuditPages(Controller):
    path = "/audit"
    guards = [signed_in, AUDITORS]  # noqa: RUF012 - Litestar's class attribute

    @get("/", sync_to_thread=True)
    def access(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        org: Annotated[str | None, QueryParameter(max_length=64)] = None,
        firm: Annotated[str | None, QueryParameter(max_length=64)] = None,
        report: Annotated[str | None, QueryParameter(max_length=64)] = None,
        since: Annotated[str | None, QueryParameter(max_length=64)] = None,
        until: Annotated[str | None, QueryParameter(max_length=64)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> Response[Any]:
        asked = {"org": org, "firm": firm, "report": report, "since": since, "until": until}
        ids = {name: _uuid(asked[name]) for name in ("org", "firm", "report")}
        moments = {name: _moment(asked[name]) for name in ("since", "until")}
        errors = {
            name: ["format"]
            for name, value in {**ids, **moments}.items()
            if asked[name] and value is None
        }
        found = watchlist.access_log(
            organisation=ids["org"],
            firm=ids["firm"],
            report=ids["report"],
            since=moments["since"],
            until=moments["until"],
            cursor=cursor,
            limit=100,
        )
        return page(
            request,
            "audit_access.html",
            422 if errors else 200,
            asked={k: v or "" for k, v in asked.items()},
            errors=errors,
            log=found,
        )

    @get("/checkpoints", sync_to_thread=True)
    def checkpoints(
        self, request: ConsoleRequest, watchlist: NamedDependency[Watchlist]
    ) -> Response[Any]:
        with watchlist.connection() as conn:
            marks = audit.checkpoints(conn)
            keys = audit.public_keys(conn)
        return page(request, "audit_checkpoints.html", checkpoints=marks[-200:][::-1], keys=keys)

    @get("/verify", sync_to_thread=False)
    def verify_form(self, request: ConsoleRequest) -> Response[Any]:
        return page(request, "audit_verify.html", verdict=None)

    @post("/verify", sync_to_thread=True)
    def verify(
        self, request: ConsoleRequest, watchlist: NamedDependency[Watchlist]
    ) -> Response[Any]:
        with watchlist.connection() as conn:
            verdict = audit.verify_database(conn)
        return page(request, "audit_verify.html", verdict=verdict)
