"""Signing in to the console: an API key in, the key's id in an encrypted session cookie.

The raw key is never kept: the session (AES-GCM, HttpOnly, SameSite=Lax,
Secure unless configured otherwise) holds the key's id, and every request
checks that key is still in force, so revoking a key signs its sessions out.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from watchlist.application import Watchlist
from watchlist.settings import Settings
from watchlist.views import Principal

PREFIX = "/console"
# Session and CSRF apply to the console alone. (Written not to match "/" itself, which
# would make Litestar warn that the middleware is off everywhere.)
NOT_CONSOLE = rf"^/(?!{PREFIX[1:]}(/|$))."
SESSION_KEY_ID = "key_id"
SHIFT_SECONDS = 12 * 3600


def session_config(watchlist: Watchlist, settings: Settings) -> CookieBackendConfig:
    return CookieBackendConfig(
        secret=watchlist.derived_secret("console-session"),
        key="watchlist_session",
        path=PREFIX,
        max_age=SHIFT_SECONDS,
        httponly=True,
        secure=settings.console_secure_cookies,
        samesite="lax",
        exclude=NOT_CONSOLE,
    )


def csrf_config(watchlist: Watchlist, settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=watchlist.derived_secret("console-csrf").hex(),
        cookie_name="watchlist_csrf",
        cookie_path=PREFIX,
        cookie_secure=settings.console_secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=NOT_CONSOLE,
    )


class ConsoleSession(ASGIMiddleware):
    """Puts the signed-in principal where the access log and the guards look for it."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        session = scope.get("session")
        if scope["path"].startswith(PREFIX) and isinstance(session, dict):
            raw = session.get(SESSION_KEY_ID)
            principal = None
            if isinstance(raw, str):
                watchlist: Watchlist = scope["litestar_app"].state.watchlist
                principal = await anyio.to_thread.run_sync(_principal, watchlist, raw)
            if principal is None:
                session.pop(SESSION_KEY_ID, None)
            else:
                scope["user"] = principal
        await next_app(scope, receive, send)


def _principal(watchlist: Watchlist, key_id: str) -> Principal | None:
    try:
        return watchlist.key_principal(UUID(key_id))
    except ValueError:
        return None


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: only a signed-in principal passes; the console sends others to sign in."""
    if not isinstance(connection.scope.get("user"), Principal):
        raise NotAuthorizedException("sign in first")


def start_session(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal) -> None:
    connection.scope["session"] = {SESSION_KEY_ID: str(principal.key_id)}
    connection.scope["user"] = principal  # the sign-in itself is in the access log


def end_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.clear_session()
