"""Facts and decisions about firms: investigators' links and separations, firms' replies,
licence checks. Each is an event; each answer waits for the projector."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter

from projector import queries
from watchlist.api.auth import allow
from watchlist.api.body import expect_json
from watchlist.api.examples import EXAMPLE_DECISION
from watchlist.api.openapi import example_body, responses
from watchlist.api.problems import problem
from watchlist.api.reading import ProjectionWatch, wait_seconds
from watchlist.application import Watchlist
from watchlist.domain.contract import (
    Contract,
    LicenceCheck,
    Reason,
    Reply,
    latest_allowed_date,
)
from watchlist.domain.errors import FieldError
from watchlist.views import Principal, Recorded

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


def firm_fact_route(path: str, operation_id: str, summary: str, body: type) -> post:
    """The route of a fact recorded about a firm (investigator, admin)."""
    return post(
        path,
        operation_id=operation_id,
        summary=summary,
        guards=[DECIDERS],
        before_request=expect_json(body),
        sync_to_thread=True,
        status_code=201,
        responses=responses(201, Decided, EXAMPLE_DECIDED, "recorded", 401, 403, 404, 415, 422),
    )


def _current_firm(watchlist: Watchlist, principal: Principal, firm_id: UUID) -> UUID:
    """The firm as it stands now (an id merged into another answers with that one), or 404."""
    with watchlist.connection() as conn:
        found = queries.report_firm(conn, principal.organisation_id, firm_id)
    if found is None:
        raise problem(404, "not-found", "No such firm", f"no firm {firm_id}")
    return found[0]


def reply_problems(
    watchlist: Watchlist, principal: Principal, firm: UUID, reply: Reply
) -> list[FieldError]:
    """What a reply's types cannot say: each disputed report is this firm's, and the reply
    was not received in the future."""
    found = []
    with watchlist.connection() as conn:
        for i, report_id in enumerate(reply.disputed_reports):
            of = queries.report_firm(conn, principal.organisation_id, report_id)
            if of is None or of[0] != firm:
                found.append(FieldError(f"$.disputed_reports[{i}]", "not a report of this firm"))
    if reply.received_on > latest_allowed_date():
        found.append(FieldError("$.received_on", "is in the future"))
    return found


def _invalid(path: str, message: str) -> Exception:
    return problem(
        422,
        "invalid-input",
        "The input is invalid",
        f"{path}: {message}",
        errors=[{"path": path, "message": message}],
    )


def _about_firm(
    projection: ProjectionWatch,
    recorded: Recorded,
    firm_ids: list[UUID],
    firm_id: UUID,
    prefer: str | None,
) -> Response[Decided]:
    projected = projection.wait(recorded.position, wait_seconds(prefer))
    return Response(
        Decided(
            id=recorded.id,
            position=recorded.position,
            firm_ids=firm_ids,
            projected=projected,
            firm_id=firm_id,
        ),
        status_code=201,
        headers={"Location": f"/v1/firms/{firm_id}"},
    )


class FirmRecordController(Controller):
    path = "/v1/firms"
    tags = ["firms"]  # noqa: RUF012 - Litestar's class attribute

    @firm_fact_route(
        "/{firm_id:uuid}/licence-checks",
        "recordLicenceCheck",
        "Record what a registry says about a firm's licence",
        LicenceCheck,
    )
    def licence_check(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        projection: NamedDependency[ProjectionWatch],
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
        firm = _current_firm(watchlist, request.user, firm_id)
        recorded = watchlist.record_licence_check(request.user, firm, data)
        return _about_firm(projection, recorded, [firm], firm, prefer)

    @firm_fact_route(
        "/{firm_id:uuid}/replies",
        "fileReply",
        "Put a firm's reply on the record; the reports it disputes are marked disputed",
        Reply,
    )
    def reply(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        projection: NamedDependency[ProjectionWatch],
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
        firm = _current_firm(watchlist, principal, firm_id)
        if found := reply_problems(watchlist, principal, firm, data):
            raise _invalid(found[0].path, found[0].message)
        recorded = watchlist.file_reply(principal, firm, data)
        return _about_firm(projection, recorded, [firm], firm, prefer)

    @decision_route("/links", "linkFirms", "Decide that two firms are one")
    def link(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        projection: NamedDependency[ProjectionWatch],
        data: Annotated[Decision, example_body(EXAMPLE_DECISION)],
        prefer: Prefer = None,
    ) -> Response[Decided]:
        return self._decide(request, watchlist, projection, data, prefer, link=True)

    @decision_route(
        "/separations",
        "separateFirms",
        "Decide that two firms are different, whatever their identifiers say",
    )
    def separate(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        projection: NamedDependency[ProjectionWatch],
        data: Annotated[
            Decision,
            example_body(
                EXAMPLE_DECISION
                | {"reason": "same phone, but a different agency at another address"}
            ),
        ],
        prefer: Prefer = None,
    ) -> Response[Decided]:
        return self._decide(request, watchlist, projection, data, prefer, link=False)

    @staticmethod
    def _decide(
        request: Request[Principal, str, State],
        watchlist: Watchlist,
        projection: ProjectionWatch,
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
        projected = projection.wait(recorded.position, wait_seconds(prefer))
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
