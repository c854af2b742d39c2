"""Firms: search, profiles (live and as of a moment), timelines, investigators' decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.status_codes import HTTP_308_PERMANENT_REDIRECT

from projector import queries
from projector.profile import Profile
from projector.risk import Level
from watchlist.api.auth import allow
from watchlist.api.body import expect_json
from watchlist.api.examples import EXAMPLE_DECISION, EXAMPLE_FIRM_PAGE, EXAMPLE_PROFILE
from watchlist.api.openapi import example_body, responses
from watchlist.api.problems import problem
from watchlist.api.reading import wait_seconds, wait_until_projected
from watchlist.application import Watchlist
from watchlist.domain.contract import (
    Contract,
    LicenceCheck,
    Reason,
    Reply,
    latest_allowed_date,
)
from watchlist.views import Principal

READERS = allow("reporter", "investigator", "auditor", "admin")
DECIDERS = allow("investigator", "admin")
Prefer = Annotated[
    str | None,
    HeaderParameter(name="Prefer", required=False, description="`wait=0` answers without waiting"),
]


class Decision(Contract, frozen=True, kw_only=True):
    firm_ids: Annotated[list[UUID], msgspec.Meta(min_length=2, max_length=2)]
    reason: Reason


class Decided(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    position: int
    firm_ids: list[UUID]
    projected: bool
    firm_id: UUID | None = None


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


EXAMPLE_DECIDED = {
    "id": "3f9c2b1a-7d6e-4c5b-8a9f-0e1d2c3b4a59",
    "position": 43,
    "firm_ids": EXAMPLE_DECISION["firm_ids"],
    "projected": True,
    "firm_id": EXAMPLE_DECISION["firm_ids"][0],
}


def decision_route(path: str, operation_id: str, summary: str) -> post:
    """The route of an investigator's decision: both kinds take and answer the same."""
    return post(
        path,
        operation_id=operation_id,
        summary=summary,
        guards=[DECIDERS],
        before_request=expect_json(Decision),
        sync_to_thread=True,
        status_code=201,
        responses=responses(
            201, Decided, EXAMPLE_DECIDED, "recorded", 401, 403, 404, 409, 415, 422
        ),
    )


class FirmController(Controller):
    path = "/v1/firms"
    tags = ["firms"]  # noqa: RUF012 - Litestar's class attribute

    @get(
        "/",
        operation_id="searchFirms",
        summary="Find firms by name or identifier",
        guards=[READERS],
        sync_to_thread=True,
        responses=responses(
            200, queries.FirmPage, EXAMPLE_FIRM_PAGE, "matching firms", 400, 401, 403, 422
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
    ) -> queries.FirmPage:
        with watchlist.connection() as conn:
            return queries.search(
                conn,
                request.user.organisation_id,
                q=q,
                country=country,
                level=level,
                cursor=cursor,
                limit=limit,
            )

    @get(
        "/{firm_id:uuid}",
        operation_id="getFirm",
        summary="A firm's profile, live or as of a log position or time",
        guards=[READERS],
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
    ) -> Response[Profile | queries.Moved]:
        moment = _as_of(as_of)
        try:
            with watchlist.connection() as conn:
                found = queries.firm(
                    conn, request.user.organisation_id, firm_id, watchlist.taxonomy, moment
                )
        except queries.NotProjected:
            raise _not_built() from None
        if found is None:
            raise problem(404, "not-found", "No such firm", f"no firm {firm_id}")
        if isinstance(found, queries.Moved):
            suffix = f"?as_of={as_of}" if as_of else ""
            return _moved(found, "/v1/firms/{}" + suffix)
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
        return Response(found)

    @post(
        "/{firm_id:uuid}/licence-checks",
        operation_id="recordLicenceCheck",
        summary="Record what a registry says about a firm's licence",
        guards=[DECIDERS],
        before_request=expect_json(LicenceCheck),
        sync_to_thread=True,
        status_code=201,
        responses=responses(201, Decided, EXAMPLE_DECIDED, "recorded", 401, 403, 404, 415, 422),
    )
    def licence_check(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        firm_id: FromPath[UUID],
        data: Annotated[
            LicenceCheck,
            example_body(
                {
                    "registry": "Ministry of Labour, register of private employment agencies",
                    "status": "none_found",
                    "checked_on": "2026-10-04",
                    "licence_number": "KZ-LIC-0042",
                    "source": "https://www.enbek.kz",
                }
            ),
        ],
        prefer: Prefer = None,
    ) -> Response[Decided]:
        principal = request.user
        with watchlist.connection() as conn:
            found = queries.report_firm(conn, principal.organisation_id, firm_id)
        if found is None:
            raise problem(404, "not-found", "No such firm", f"no firm {firm_id}")
        recorded = watchlist.record_licence_check(principal, found[0], data)
        projected = wait_until_projected(watchlist, recorded.position, wait_seconds(prefer))
        return Response(
            Decided(
                id=recorded.id,
                position=recorded.position,
                firm_ids=[found[0]],
                projected=projected,
                firm_id=found[0],
            ),
            status_code=201,
            headers={"Location": f"/v1/firms/{found[0]}"},
        )

    @post(
        "/{firm_id:uuid}/replies",
        operation_id="fileReply",
        summary="Put a firm's reply on the record; the reports it disputes are marked disputed",
        guards=[DECIDERS],
        before_request=expect_json(Reply),
        sync_to_thread=True,
        status_code=201,
        responses=responses(201, Decided, EXAMPLE_DECIDED, "filed", 401, 403, 404, 415, 422),
    )
    def reply(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        firm_id: FromPath[UUID],
        data: Annotated[
            Reply,
            example_body(
                {
                    "statement": "We are a licensed agency; the caller was never our client.",
                    "received_on": "2026-10-10",
                    "contact": "office@rai-abroad.kz",
                    "disputed_reports": [EXAMPLE_DECISION["firm_ids"][0]],
                }
            ),
        ],
        prefer: Prefer = None,
    ) -> Response[Decided]:
        principal = request.user
        with watchlist.connection() as conn:
            firm = queries.report_firm(conn, principal.organisation_id, firm_id)
            if firm is None:
                raise problem(404, "not-found", "No such firm", f"no firm {firm_id}")
            for i, report_id in enumerate(data.disputed_reports):
                of = queries.report_firm(conn, principal.organisation_id, report_id)
                if of is None or of[0] != firm[0]:
                    raise problem(
                        422,
                        "invalid-input",
                        "The input is invalid",
                        f"report {report_id} is not one of this firm's reports",
                        errors=[
                            {
                                "path": f"$.disputed_reports[{i}]",
                                "message": "not a report of this firm",
                            }
                        ],
                    )
        if data.received_on > latest_allowed_date():
            raise problem(
                422,
                "invalid-input",
                "The input is invalid",
                "received in the future",
                errors=[{"path": "$.received_on", "message": "is in the future"}],
            )
        recorded = watchlist.file_reply(principal, firm[0], data)
        projected = wait_until_projected(watchlist, recorded.position, wait_seconds(prefer))
        return Response(
            Decided(
                id=recorded.id,
                position=recorded.position,
                firm_ids=[firm[0]],
                projected=projected,
                firm_id=firm[0],
            ),
            status_code=201,
            headers={"Location": f"/v1/firms/{firm[0]}"},
        )

    @decision_route("/links", "linkFirms", "Decide that two firms are one")
    def link(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        data: Annotated[Decision, example_body(EXAMPLE_DECISION)],
        prefer: Prefer = None,
    ) -> Response[Decided]:
        return self._decide(request, watchlist, data, prefer, link=True)

    @decision_route(
        "/separations",
        "separateFirms",
        "Decide that two firms are different, whatever their identifiers say",
    )
    def separate(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        data: Annotated[
            Decision,
            example_body(
                EXAMPLE_DECISION
                | {"reason": "same phone, but a different agency at another address"}
            ),
        ],
        prefer: Prefer = None,
    ) -> Response[Decided]:
        return self._decide(request, watchlist, data, prefer, link=False)

    @staticmethod
    def _decide(
        request: Request[Principal, str, State],
        watchlist: Watchlist,
        data: Decision,
        prefer: str | None,
        *,
        link: bool,
    ) -> Response[Decided]:
        principal = request.user
        a, b = data.firm_ids
        with watchlist.connection() as conn:
            known = [queries.report_firm(conn, principal.organisation_id, f) for f in (a, b)]
        for i, (firm_id, found) in enumerate(zip((a, b), known, strict=True)):
            if found is None:
                raise problem(
                    404,
                    "not-found",
                    "No such firm",
                    f"no firm {firm_id}",
                    errors=[{"path": f"$.firm_ids[{i}]", "message": "no such firm"}],
                )
        current = [found[0] for found in known if found is not None]
        if link:
            if current[0] == current[1]:
                raise problem(
                    409,
                    "already-one-firm",
                    "These are one firm already",
                    f"both ids name firm {current[0]}",
                )
            a, b = current
            recorded = watchlist.link_firms(principal, a, b, data.reason)
        else:
            recorded = watchlist.separate_firms(principal, a, b, data.reason)
        projected = wait_until_projected(watchlist, recorded.position, wait_seconds(prefer))
        firm = None
        if projected:
            with watchlist.connection() as conn:
                found = queries.report_firm(conn, principal.organisation_id, a)
            firm = found[0] if found else None
        return Response(
            Decided(
                id=recorded.id,
                position=recorded.position,
                firm_ids=[a, b],
                projected=projected,
                firm_id=firm,
            ),
            status_code=201,
            headers={"Location": f"/v1/firms/{firm or a}"},
        )
