"""Firms: search, profiles (live and as of a moment), timelines, investigators' decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_308_PERMANENT_REDIRECT

from projector import queries
from projector import search as firm_search
from projector.profile import Profile
from projector.risk import Level
from watchlist.api.access_log import shown
from watchlist.api.auth import READERS, guard_first
from watchlist.api.examples import EXAMPLE_FIRM_PAGE, EXAMPLE_PROFILE
from watchlist.api.openapi import responses
from watchlist.api.problems import problem
from watchlist.application import Watchlist
from watchlist.views import Principal

READERS_FIRST = guard_first(READERS)  # the hot reads: see guard_first


def _moved(moved: queries.Moved, path: str) -> Response[Any]:
    return Response(
        moved,
        status_code=HTTP_308_PERMANENT_REDIRECT,
        headers={"Location": path.format(moved.merged_into)},
    )


def _not_built() -> Exception:
    return problem(
        503,
        "not-projected",
        "The read models are not built yet",
        "the projector has not run; start it with `watchlist projector`",
    )


def _as_of(value: str | None) -> int | datetime | None:
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise problem(
            400,
            "bad-request",
            "The request is malformed",
            "as_of is a log position or an ISO 8601 time",
            errors=[{"path": "query.as_of", "message": "not a position or a time"}],
        ) from None
    if moment.tzinfo is None:
        raise problem(
            400,
            "bad-request",
            "The request is malformed",
            "as_of needs a time zone",
            errors=[{"path": "query.as_of", "message": "add a time zone, e.g. Z"}],
        )
    return moment


class FirmController(Controller):
    path = "/v1/firms"
    tags = ["firms"]  # noqa: RUF012 - Litestar's class attribute

    @get(
        "/",
        operation_id="searchFirms",
        summary="Find firms by name or identifier",
        before_request=READERS_FIRST,
        sync_to_thread=True,
        responses=responses(
            200, firm_search.FirmPage, EXAMPLE_FIRM_PAGE, "matching firms", 400, 401, 403, 422
        ),
    )
    def search(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        q: Annotated[
            str | None, QueryParameter(max_length=300, description="a name or identifier")
        ] = None,
        country: Annotated[str | None, QueryParameter(pattern="^[A-Z]{2}$")] = None,
        level: Annotated[Level | None, QueryParameter()] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> firm_search.FirmPage:
        with watchlist.connection() as conn:
            found = firm_search.search(
                conn,
                request.user.organisation_id,
                q=q,
                country=country,
                level=level,
                cursor=cursor,
                limit=limit,
            )
        shown(request, firms=[hit.firm_id for hit in found.items])
        return found

    @get(
        "/{firm_id:uuid}",
        operation_id="getFirm",
        summary="A firm's profile, live or as of a log position or time",
        before_request=READERS_FIRST,
        sync_to_thread=True,
        responses=responses(200, Profile, EXAMPLE_PROFILE, "the profile", 400, 401, 403, 404),
    )
    def profile(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        firm_id: FromPath[UUID],
        as_of: Annotated[
            str | None,
            QueryParameter(
                max_length=64, description=("a log position, or an ISO 8601 time with a zone")
            ),
        ] = None,
    ) -> Response[Any]:
        moment = _as_of(as_of)
        viewer = request.user.organisation_id
        found: Profile | bytes | queries.Moved | None
        try:
            with watchlist.connection() as conn:
                if moment is None:  # the stored JSON, as it is: no decoding, no re-encoding
                    found = queries.firm_json(conn, viewer, firm_id)
                else:
                    found = queries.firm(conn, viewer, firm_id, watchlist.taxonomy, moment)
        except queries.NotProjected:
            raise _not_built() from None
        if found is None:
            raise problem(404, "not-found", "No such firm", f"no firm {firm_id}")
        if isinstance(found, queries.Moved):
            suffix = f"?as_of={as_of}" if as_of else ""
            return _moved(found, "/v1/firms/{}" + suffix)
        if isinstance(found, bytes):
            return Response(found, media_type=MediaType.JSON)
        return Response(found)

    @get(
        "/{firm_id:uuid}/timeline",
        operation_id="getFirmTimeline",
        summary="Every event about a firm's reports and decisions, in log order",
        guards=[READERS],
        sync_to_thread=True,
        responses=responses(
            200,
            queries.Timeline,
            {
                "firm_id": EXAMPLE_PROFILE["firm_id"],
                "items": [],
                "next_cursor": None,
                "as_of_position": 42,
            },
            "the timeline",
            401,
            403,
            404,
        ),
    )
    def timeline(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        firm_id: FromPath[UUID],
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> Response[queries.Timeline | queries.Moved]:
        try:
            after = queries.timeline_cursor(cursor)
            with watchlist.connection() as conn:
                found = queries.timeline(
                    conn, request.user.organisation_id, firm_id, after=after, limit=limit
                )
        except queries.NotProjected:
            raise _not_built() from None
        if found is None:
            raise problem(404, "not-found", "No such firm", f"no firm {firm_id}")
        if isinstance(found, queries.Moved):
            return _moved(found, "/v1/firms/{}/timeline")
        shown(request, reports=[item.report_id for item in found.items])
        return Response(found)
