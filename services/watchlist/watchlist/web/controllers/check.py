"""The quick check: the first screen a hotline operator sees."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from projector import queries
from projector import search as firm_search
from projector.profile import Profile
from projector.risk import Level
from watchlist.api.access_log import shown
from watchlist.application import Watchlist
from watchlist.views import Principal
from watchlist.web.pages import page
from watchlist.web.session import signed_in

Query = Annotated[str, QueryParameter(max_length=300)]


class FirmRow(msgspec.Struct, frozen=True, kw_only=True):
    firm_id: str
    display_name: str
    country: str
    level: Level
    organisations: int
    licence_status: str | None
    last_report: str | None


def firm_rows(
    request: Request[Principal, Any, Any], watchlist: Watchlist, q: str, limit: int = 20
) -> list[FirmRow]:
    """Firms matching ``q`` as the signed-in organisation sees them, with their licence and
    last report; each one shown is named in the request's access-log entry."""
    if not q.strip():
        return []
    rows = []
    viewer = request.user.organisation_id
    with watchlist.connection() as conn:
        found = firm_search.search(
            conn, viewer, q=q, country=None, level=None, cursor=None, limit=limit
        )
        for hit in found.items:
            profile = queries.firm(conn, viewer, hit.firm_id, watchlist.taxonomy)
            if not isinstance(profile, Profile):
                continue
            rows.append(
                FirmRow(
                    firm_id=str(hit.firm_id),
                    display_name=hit.display_name,
                    country=hit.country,
                    level=hit.level,
                    organisations=hit.organisations,
                    licence_status=profile.licence.status if profile.licence else None,
                    last_report=profile.last_report_at.date().isoformat()
                    if profile.last_report_at
                    else None,
                )
            )
    shown(request, firms=[UUID(row.firm_id) for row in rows])
    return rows


class QuickCheck(Controller):
    path = "/"
    guards = [signed_in]  # noqa: RUF012 - Litestar's class attribute

    @get("/", sync_to_thread=True)
    def check(
        self,
        request: Request[Principal, Any, Any],
        watchlist: NamedDependency[Watchlist],
        q: Query = "",
    ) -> Response[Any]:
        return page(request, "check.html", q=q, rows=firm_rows(request, watchlist, q))

    @get("/results", sync_to_thread=True)
    def results(
        self,
        request: Request[Principal, Any, Any],
        watchlist: NamedDependency[Watchlist],
        q: Query = "",
    ) -> Response[Any]:
        """The result list alone, for the page to swap in as the operator types."""
        return page(request, "_results.html", q=q, rows=firm_rows(request, watchlist, q))
