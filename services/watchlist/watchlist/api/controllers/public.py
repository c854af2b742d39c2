"""The public check: a name or phone, and a minimal, safe answer. No key needed."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from projector import queries
from watchlist.api.access_log import shown
from watchlist.api.openapi import responses
from watchlist.application import Watchlist
from watchlist.settings import Settings


class PublicAnswer(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    firms: list[queries.PublicFirm]
    hotline: str


EXAMPLE = {
    "query": "+7 725 230 01 52",
    "firms": [
        {
            "display_name": "ТОО «Рай за границей»",
            "level": "high",
            "organisations": 3,
            "licence_status": "none_found",
            "latest_report": "2026-10",
        }
    ],
    "hotline": "Before you sign or pay anything, call your local anti-trafficking hotline.",
}


def checked(
    request: Request[Any, Any, Any], watchlist: Watchlist, settings: Settings, q: str
) -> list[queries.PublicFirm]:
    """What the public check may show for ``q``; the firms' ids go to the access log only."""
    with watchlist.connection() as conn:
        found = queries.public_check(conn, q, min_organisations=settings.public_min_organisations)
    shown(request, firms=found)
    return list(found.values())


@get(
    "/v1/public/check",
    operation_id="publicCheck",
    tags=["public"],
    security=[],
    summary="Is this recruiter on the watchlist? For anyone, without a key",
    sync_to_thread=True,
    responses=responses(200, PublicAnswer, EXAMPLE, "what the public may know", 400, 429),
)
def public_check(
    request: Request[Any, Any, Any],
    watchlist: NamedDependency[Watchlist],
    settings: NamedDependency[Settings],
    q: Annotated[
        str,
        QueryParameter(
            min_length=3, max_length=100, description="a name or a phone number, typed any way"
        ),
    ],
) -> PublicAnswer:
    firms = checked(request, watchlist, settings, q)
    return PublicAnswer(query=q, firms=firms, hotline=settings.hotline_contact)
