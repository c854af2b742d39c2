"""The public check page: no sign-in, in English, Russian and Kazakh, and only what the
public check API answers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from projector import queries
from watchlist.api.controllers.public import checked
from watchlist.application import Watchlist
from watchlist.settings import Settings
from watchlist.web import i18n
from watchlist.web.pages import page

MIN_QUERY, MAX_QUERY = 3, 100


@get("/check", sync_to_thread=True, include_in_schema=False)
def public_check_page(
    request: Request[Any, Any, Any],
    watchlist: NamedDependency[Watchlist],
    settings: NamedDependency[Settings],
    q: Annotated[str, QueryParameter()] = "",
) -> Response[Any]:
    q = q.strip()[:MAX_QUERY]
    firms: list[queries.PublicFirm] | None = None
    if len(q) >= MIN_QUERY:
        firms = checked(request, watchlist, settings, q)
    # The operator's own words when set; otherwise the default sentence, translated.
    custom = settings.hotline_contact != Settings.hotline_contact
    return page(
        request,
        "public_check.html",
        languages=i18n.PUBLIC_LANGUAGES,
        q=q,
        firms=firms,
        too_short=0 < len(q) < MIN_QUERY,
        hotline=settings.hotline_contact if custom else None,
    )
