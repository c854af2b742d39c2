"""The Litestar application."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.problem_details import ProblemDetailsPlugin
from litestar.types import Receive, Scope, Send

from watchlist import __version__
from watchlist.api.access_log import AccessLog
from watchlist.api.auth import BearerKeyAuthentication, KeyCache
from watchlist.api.controllers.audit import AuditController
from watchlist.api.controllers.firm_records import FirmRecordController
from watchlist.api.controllers.firms import FirmController
from watchlist.api.controllers.health import live, ready
from watchlist.api.controllers.public import public_check
from watchlist.api.controllers.reports import ReportController
from watchlist.api.problems import EXCEPTION_HANDLERS
from watchlist.api.reading import ProjectionWatch
from watchlist.application import Watchlist
from watchlist.group_commit import GroupCommit
from watchlist.settings import Settings
from watchlist.web.console import OPEN_PATHS, PUBLIC_PATHS, console
from watchlist.web.session import ConsoleSession


def _given(value: Any) -> Callable[[], Any]:
    """A dependency that is one object made at start-up."""
    return lambda: value


PUBLIC = ("/v1/public/", *PUBLIC_PATHS)


class PublicRateLimit(RateLimitMiddleware):
    """Litestar's rate limit, on the public check alone.

    With a throttle check instead, the middleware builds a Request and awaits the check
    on every API call only to let it through; here a path that is not public goes
    straight on.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["path"]).startswith(PUBLIC):
            await super().__call__(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_app(watchlist: Watchlist, settings: Settings) -> Litestar:
    openapi = OpenAPIConfig(
        title="Watchlist",
        version=__version__,
        description="A shared watchlist of suspicious labour recruiters.",
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
        ),
        security=[{"bearer": []}],
        use_handler_docstrings=True,
    )
    # The public check is open to anyone: limit each client's pace.
    public_rate_limit = DefineMiddleware(
        PublicRateLimit,
        config=RateLimitConfig(rate_limit=("minute", settings.public_checks_per_minute)),
    )
    web = console(watchlist, settings)
    authentication = DefineMiddleware(
        BearerKeyAuthentication, exclude=["^/health/", "^/schema", "^/v1/public/", *OPEN_PATHS]
    )
    handlers: list[Any] = [
        live,
        ready,
        public_check,
        ReportController,
        FirmController,
        FirmRecordController,
        AuditController,
        *web.handlers,
    ]
    # Reports and access-log entries that arrive together commit together.
    # Each writer holds a connection while work keeps coming (no pool check per batch).
    submissions = GroupCommit(
        watchlist.submit_reports, name="submissions", session=watchlist.holding_connection
    )
    accesses = GroupCommit(
        watchlist.record_accesses, name="access-log", session=watchlist.holding_connection
    )
    projection = ProjectionWatch(watchlist)
    shared = {
        "watchlist": watchlist,
        "key_cache": KeyCache(watchlist.authenticate, settings.key_cache_seconds),
        "submissions": submissions,
        "accesses": accesses,
        "projection": projection,
    }
    return Litestar(
        route_handlers=handlers,
        # Middleware reads these from the state; handlers have them as dependencies.
        state=State(shared),
        on_shutdown=[submissions.close, accesses.close, projection.close],
        dependencies={
            name: Provide(_given(value), sync_to_thread=False)
            for name, value in (shared | {"settings": settings}).items()
        },
        middleware=[
            public_rate_limit,
            web.session.middleware,
            authentication,
            ConsoleSession(),
            AccessLog(),
        ],
        csrf_config=web.csrf,
        template_config=web.templates,
        exception_handlers=dict(EXCEPTION_HANDLERS),
        plugins=[ProblemDetailsPlugin()],
        openapi_config=openapi,
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
