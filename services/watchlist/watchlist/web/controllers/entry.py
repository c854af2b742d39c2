"""Signing in and out."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect

from watchlist.application import Watchlist
from watchlist.web.pages import page, see_other
from watchlist.web.session import PREFIX, end_session, start_session

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return PREFIX + "/"


@get("/", include_in_schema=False, sync_to_thread=False)
def root() -> Redirect:
    return Redirect(PREFIX + "/")


@get("/sign-in", sync_to_thread=False)
def sign_in_form(
    request: Request[Any, Any, Any],
    after: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None,
) -> Response[Any]:
    return page(request, "sign_in.html", next=_next(after), failed=False)


@post("/sign-in", sync_to_thread=True)
def sign_in(
    request: Request[Any, Any, Any], watchlist: NamedDependency[Watchlist], data: Form
) -> Response[Any]:
    principal = watchlist.authenticate(data.get("key", "").strip())
    if principal is None:
        return page(request, "sign_in.html", 401, next=_next(data.get("next")), failed=True)
    start_session(request, principal)
    return see_other(_next(data.get("next")))


@post("/sign-out", sync_to_thread=False)
def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    end_session(request)
    return see_other(PREFIX + "/sign-in")
