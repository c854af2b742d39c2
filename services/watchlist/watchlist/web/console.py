"""What the console adds to the app: routes, templates, static files, session, CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from watchlist.api.problems import from_domain_error, from_http_exception
from watchlist.application import Watchlist
from watchlist.domain.errors import DomainError
from watchlist.settings import Settings
from watchlist.web.controllers.audit import AuditPages
from watchlist.web.controllers.check import QuickCheck
from watchlist.web.controllers.entry import root, sign_in, sign_in_form, sign_out
from watchlist.web.controllers.firms import FirmPages
from watchlist.web.controllers.public import public_check_page
from watchlist.web.controllers.reports import ReportPages
from watchlist.web.pages import page
from watchlist.web.session import PREFIX, csrf_config, session_config

HERE = Path(__file__).parent
# Paths the bearer-key middleware leaves alone: the console signs in with its session.
OPEN_PATHS = [f"^{PREFIX}(/|$)", "^/check$", "^/static/", "^/$"]
PUBLIC_PATHS = ("/check",)


def _signed_out(request: Request[Any, Any, Any], _: NotAuthorizedException) -> Response[Any]:
    return Redirect(f"{PREFIX}/sign-in?next={quote(request.url.path)}", status_code=303)


def _error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The API's problem, as a page a person can read and act on."""
    found: ProblemDetailsException
    if isinstance(exc, DomainError):
        found = from_domain_error(exc)
    elif isinstance(exc, HTTPException):
        found = from_http_exception(exc)
    else:
        raise exc
    return page(
        request,
        "error.html",
        found.status_code,
        status=found.status_code,
        slug=(found.type_ or "").rsplit(":", 1)[-1],
        detail=found.detail,
    )


@dataclass
class Console:
    handlers: list[Any]
    session: CookieBackendConfig
    csrf: CSRFConfig
    templates: TemplateConfig[JinjaTemplateEngine]


def console(watchlist: Watchlist, settings: Settings) -> Console:
    router = Router(
        path=PREFIX,
        route_handlers=[
            sign_in_form,
            sign_in,
            sign_out,
            QuickCheck,
            ReportPages,
            FirmPages,
            AuditPages,
        ],
        include_in_schema=False,
        exception_handlers={
            NotAuthorizedException: _signed_out,
            HTTPException: _error_page,
            ProblemDetailsException: _error_page,  # the plugin's own handler would answer JSON
            DomainError: _error_page,
        },
    )
    static = create_static_files_router(
        path="/static", directories=[HERE / "static"], include_in_schema=False
    )
    return Console(
        handlers=[router, static, root, public_check_page],
        session=session_config(watchlist, settings),
        csrf=csrf_config(watchlist, settings),
        templates=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
    )
