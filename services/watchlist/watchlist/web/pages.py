"""Rendering a console page: the template, the language, who is signed in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from watchlist.api.reading import DEFAULT_WAIT, ProjectionWatch
from watchlist.views import Principal
from watchlist.web import i18n

YEAR = 365 * 24 * 3600


# A hotline's computer is shared: a page that showed a caller's name must not come back from
# the browser's cache after sign-out, nor be framed by another site to steal a click.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}


def page(
    request: Request[Any, Any, Any],
    template: str,
    status_code: int = 200,
    languages: Sequence[str] = i18n.CONSOLE_LANGUAGES,
    **context: Any,
) -> Template:
    language = i18n.choose(request, languages)
    cookies = []
    if request.query_params.get("lang") == language:
        cookies.append(
            Cookie(key=i18n.COOKIE, value=language, max_age=YEAR, samesite="lax", httponly=True)
        )
    user = request.scope.get("user")
    return Template(
        template_name=template,
        status_code=status_code,
        cookies=cookies,
        headers=PAGE_HEADERS,
        context={
            "lang": language,
            "languages": [(code, i18n.LANGUAGE_NAMES[code]) for code in languages],
            "t": i18n.translate(language),
            "principal": user if isinstance(user, Principal) else None,
            "path": request.url.path,
            **context,
        },
    )


def words(request: Request[Any, Any, Any]) -> Callable[..., str]:
    """The console's texts in the language this request is answered in."""
    return i18n.translate(i18n.choose(request, i18n.CONSOLE_LANGUAGES))


def see_other(path: str) -> Redirect:
    """After a form is posted: 303, so reloading the next page posts nothing again."""
    return Redirect(path, status_code=303)


def see_when_projected(request: Request[Any, Any, Any], position: int, path: str) -> Redirect:
    """Read-your-writes: the next page shows the change once the projector has it (or
    after the API's usual wait, when the page says it is still being placed)."""
    watch: ProjectionWatch = request.app.state.projection
    watch.wait(position, DEFAULT_WAIT)
    return see_other(path)
