"""Bearer-key authentication and role guards."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from watchlist.domain.organisation import Role
from watchlist.views import Principal

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="watchlist"'}


class KeyCache:
    """Keys this process authenticated lately, so a busy client costs no query per request.

    An entry is trusted for ``seconds`` and then checked against the database
    again: a key revoked anywhere (``watchlist key revoke`` runs in another
    process) stops working here within that bound. Unknown and revoked keys are
    never remembered. ``seconds <= 0`` checks every request.
    """

    def __init__(
        self,
        authenticate: Callable[[str], Principal | None],
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self._authenticate, self._seconds, self._clock = authenticate, seconds, clock
        self._max_keys = max_keys
        self._entries: dict[bytes, tuple[float, Principal]] = {}

    def cached(self, token: str) -> Principal | None:
        """The principal of ``token`` if it was authenticated less than ``seconds`` ago."""
        entry = self._entries.get(_digest(token))
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def authenticate(self, token: str) -> Principal | None:
        """Ask the database (blocking), and remember a key that is in force."""
        asked = self._clock()  # before the query: a revocation it missed came later
        principal = self._authenticate(token)
        if principal is not None and self._seconds > 0:
            if len(self._entries) >= self._max_keys:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > asked}
                if len(self._entries) >= self._max_keys:
                    self._entries = {}
            self._entries[_digest(token)] = (asked + self._seconds, principal)
        return principal


def _digest(token: str) -> bytes:
    # The cache holds no usable key, only what it hashes to.
    return hashlib.sha256(token.encode()).digest()


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
        keys: KeyCache = connection.app.state.key_cache
        token = token.strip()
        principal = keys.cached(token)
        if principal is None:
            principal = await anyio.to_thread.run_sync(keys.authenticate, token)
        if principal is None:
            raise NotAuthorizedException("the API key is unknown or revoked", headers=CHALLENGE)
        return AuthenticationResult(user=principal, auth=token)


AsyncGuard = Callable[[ASGIConnection[Any, Any, Any, Any], Any], Awaitable[None]]


def allow(*roles: Role) -> AsyncGuard:
    """A guard admitting only keys of the given roles.

    A coroutine, so that it runs on the event loop: Litestar runs a plain function
    guard in a worker thread, and the hop there and back costs more than the role
    check itself (on the firm reads, one more thread hop per request).
    """

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
        if connection.scope.get("method") == "OPTIONS":
            # Litestar's own answer, the route's methods and nothing else; its
            # authentication lets OPTIONS through without a key, so there is no role here.
            return
        principal: Principal = connection.user
        if principal.role not in roles:
            raise PermissionDeniedException(
                f"a {principal.role} key may not do this; allowed: {', '.join(roles)}"
            )

    return guard


# Every role reads reports and firms (what each may see is the queries' business).
READERS = allow("reporter", "investigator", "auditor", "admin")


def guard_first(
    guard: AsyncGuard, hook: Callable[[Request[Any, Any, Any]], Awaitable[None]] | None = None
) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """``guard``, then ``hook`` if given, as one ``before_request`` hook: the role is
    still checked before the body is read or the handler runs, as a guard would be.

    For the routes most requests take (a submission, a firm's profile, a search):
    Litestar hands each guard its own copy of the route handler, made per request
    (``copy.copy`` of an object of some sixty slots), which cost more than the role
    check and the JSON check together.
    """

    async def check(request: Request[Any, Any, Any]) -> None:
        await guard(request, request.route_handler)
        if hook is not None:
            await hook(request)

    return check
