"""Bearer-key authentication and role guards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from watchlist.application import Watchlist
from watchlist.domain.organisation import Role
from watchlist.views import Principal

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="watchlist"'}


class BearerKeyAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException(
                "send an API key as `Authorization: Bearer <key>`", headers=CHALLENGE
            )
        watchlist: Watchlist = connection.app.state.watchlist
        principal = await anyio.to_thread.run_sync(watchlist.authenticate, token.strip())
        if principal is None:
            raise NotAuthorizedException("the API key is unknown or revoked", headers=CHALLENGE)
        return AuthenticationResult(user=principal, auth=token)


def allow(*roles: Role) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A guard admitting only keys of the given roles."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if principal.role not in roles:
            raise PermissionDeniedException(
                f"a {principal.role} key may not do this; allowed: {', '.join(roles)}"
            )

    return guard
