"""Reports: submit, read, amend, retract, list."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter

from watchlist.api.access_log import shown
from watchlist.api.auth import READERS, allow, guard_first
from watchlist.api.body import StrictBody, expect_json
from watchlist.api.examples import (
    EXAMPLE_PAGE,
    EXAMPLE_RECORD,
    EXAMPLE_RECORDED,
    EXAMPLE_REPORT,
)
from watchlist.api.openapi import example_body, responses
from watchlist.api.problems import problem
from watchlist.api.reading import ProjectionWatch, firm_of_report, wait_seconds
from watchlist.application import Watchlist
from watchlist.domain.contract import (
    Amendment,
    Erasure,
    Evidence,
    ReportBody,
    Resolution,
    Retraction,
)
from watchlist.group_commit import GroupCommit
from watchlist.submissions import Submission
from watchlist.views import Principal, Recorded, ReportPage, ReportRecord

WRITERS = allow("reporter", "admin")
ADMINS = allow("admin")
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        min_length=1,
        max_length=200,
        description="Repeat a submission safely: the same key and body answer 200 "
        "with the first answer; another body gets 409.",
    ),
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match", required=False, description='The version being changed, as its ETag: `"3"`'
    ),
]


Prefer = Annotated[
    str | None,
    HeaderParameter(
        name="Prefer",
        required=False,
        description="`wait=0` answers at once; by default the answer waits up to "
        "2 s for the projector, to name the report's firm and level",
    ),
]


class Submitted(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    version: int
    position: int
    projected: bool
    firm_id: UUID | None = None
    risk_level: str | None = None


def _answer(
    watchlist: Watchlist,
    principal: Principal,
    recorded: Recorded,
    status: int,
    projected: bool,
) -> Response[Submitted]:
    found = firm_of_report(watchlist, principal, recorded.id) if projected else None
    return Response(
        Submitted(
            id=recorded.id,
            version=recorded.version,
            position=recorded.position,
            projected=projected,
            firm_id=found[0] if found else None,
            risk_level=found[1] if found else None,
        ),
        status_code=status,
        headers={"Location": f"/v1/reports/{recorded.id}", "ETag": f'"{recorded.version}"'},
    )


def _version(if_match: str | None, *, required: bool) -> int | None:
    if if_match is None:
        if required:
            raise problem(
                428,
                "precondition-required",
                "An If-Match header is required",
                'send the version you are amending: If-Match: "<version>"',
            )
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise problem(
            400,
            "bad-request",
            "The request is malformed",
            f'If-Match must be a version ETag like "3", not {if_match!r}',
            errors=[{"path": "header.If-Match", "message": "not a version ETag"}],
        )
    return int(tag)


def report_command(
    path: str, operation_id: str, summary: str, guard: Any, body: type, *, status_code: int = 200
) -> post:
    """The route of a command on one report: a JSON body in, the recorded version out."""
    return post(
        path,
        operation_id=operation_id,
        summary=summary,
        guards=[guard],
        before_request=expect_json(body, decode=False),
        dto=StrictBody[body],  # type: ignore[valid-type]
        return_dto=None,
        sync_to_thread=True,
        status_code=status_code,
        responses=responses(
            status_code,
            Submitted,
            EXAMPLE_RECORDED | {"version": 2},
            "recorded",
            400,
            401,
            403,
            404,
            409,
            412,
            415,
            422,
            428,
        ),
    )


class ReportController(Controller):
    path = "/v1/reports"
    tags = ["reports"]  # noqa: RUF012 - Litestar's class attribute

    @post(
        "/",
        operation_id="submitReport",
        summary="Submit a report on a recruiter",
        before_request=guard_first(WRITERS, expect_json(ReportBody, decode=False)),
        dto=StrictBody[ReportBody],
        return_dto=None,
        status_code=201,
        responses=responses(
            201,
            Submitted,
            EXAMPLE_RECORDED,
            "the report was recorded",
            400,
            401,
            403,
            409,
            413,
            415,
            422,
        ),
    )
    async def submit(
        self,
        request: Request[Principal, str, State],
        data: Annotated[ReportBody, example_body(EXAMPLE_REPORT)],
        idempotency_key: IdempotencyKey = None,
        prefer: Prefer = None,
    ) -> Response[Submitted]:
        # From the state, not as dependencies: Litestar resolves several dependencies in a
        # task group of their own, which costs more per request than this whole handler.
        state = request.app.state
        submissions: GroupCommit[Submission, Recorded] = state.submissions
        # Committed with the submissions that arrive alongside it, answered on its own;
        # waiting on the commit and then on the projector holds no thread.
        recorded = await submissions.commit(Submission(request.user, data, idempotency_key))
        projected = await state.projection.wait_async(recorded.position, wait_seconds(prefer))
        status = 200 if recorded.replayed else 201
        if not projected:  # nothing to read: answer from here
            return _answer(state.watchlist, request.user, recorded, status, projected)
        return await anyio.to_thread.run_sync(
            _answer, state.watchlist, request.user, recorded, status, projected
        )

    @get(
        "/{report_id:uuid}",
        operation_id="getReport",
        summary="Read a report",
        guards=[READERS],
        sync_to_thread=True,
        responses=responses(200, ReportRecord, EXAMPLE_RECORD, "the report", 401, 403, 404),
    )
    def read(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        report_id: FromPath[UUID],
    ) -> Response[ReportRecord]:
        record = watchlist.get_report(request.user, report_id)
        return Response(record, headers={"ETag": f'"{record.version}"'})

    @report_command(
        "/{report_id:uuid}/amendments",
        "amendReport",
        "Amend a report with a full new version and a reason",
        WRITERS,
        Amendment,
        status_code=200,
    )
    def amend(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        projection: NamedDependency[ProjectionWatch],
        report_id: FromPath[UUID],
        data: Annotated[Amendment, example_body(EXAMPLE_REPORT | {"reason": "phone corrected"})],
        if_match: IfMatch = None,
        prefer: Prefer = None,
    ) -> Response[Submitted]:
        expected = _version(if_match, required=True)
        assert expected is not None
        recorded = watchlist.amend_report(
            request.user, report_id, expected, data.body(), data.reason
        )
        projected = projection.wait(recorded.position, wait_seconds(prefer))
        return _answer(watchlist, request.user, recorded, 200, projected)

    @report_command(
        "/{report_id:uuid}/retraction",
        "retractReport",
        "Retract a report, with a reason",
        WRITERS,
        Retraction,
        status_code=200,
    )
    def retract(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        projection: NamedDependency[ProjectionWatch],
        report_id: FromPath[UUID],
        data: Annotated[Retraction, example_body({"reason": "the caller named the wrong agency"})],
        if_match: IfMatch = None,
        prefer: Prefer = None,
    ) -> Response[Submitted]:
        recorded = watchlist.retract_report(
            request.user, report_id, data.reason, _version(if_match, required=False)
        )
        projected = projection.wait(recorded.position, wait_seconds(prefer))
        return _answer(watchlist, request.user, recorded, 200, projected)

    @report_command(
        "/{report_id:uuid}/dispute-resolution",
        "resolveDispute",
        "Resolve a firm's dispute of this report: upheld, corrected or retracted",
        WRITERS,
        Resolution,
        status_code=200,
    )
    def resolve_dispute(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        projection: NamedDependency[ProjectionWatch],
        report_id: FromPath[UUID],
        data: Annotated[
            Resolution,
            example_body({"outcome": "upheld", "reason": "two callers confirm the fee demand"}),
        ],
        prefer: Prefer = None,
    ) -> Response[Submitted]:
        recorded = watchlist.resolve_dispute(request.user, report_id, data)
        projected = projection.wait(recorded.position, wait_seconds(prefer))
        return _answer(watchlist, request.user, recorded, 200, projected)

    @report_command(
        "/{report_id:uuid}/evidence",
        "registerEvidence",
        "Register a file your organisation holds, by its SHA-256",
        WRITERS,
        Evidence,
        status_code=201,
    )
    def register_evidence(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        projection: NamedDependency[ProjectionWatch],
        report_id: FromPath[UUID],
        data: Annotated[
            Evidence,
            example_body(
                {
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "media_type": "image/jpeg",
                    "size": 183_422,
                    "description": "photo of the agency's advert on a bus stop",
                }
            ),
        ],
        prefer: Prefer = None,
    ) -> Response[Submitted]:
        recorded = watchlist.register_evidence(request.user, report_id, data)
        projected = projection.wait(recorded.position, wait_seconds(prefer))
        return _answer(watchlist, request.user, recorded, 201, projected)

    @report_command(
        "/{report_id:uuid}/confidential/erasure",
        "eraseConfidentialPart",
        "Destroy a report's confidential part for good (admin of its organisation)",
        ADMINS,
        Erasure,
        status_code=200,
    )
    def erase(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        projection: NamedDependency[ProjectionWatch],
        report_id: FromPath[UUID],
        data: Annotated[Erasure, example_body({"reason": "the caller asked us to forget her"})],
        prefer: Prefer = None,
    ) -> Response[Submitted]:
        recorded = watchlist.erase_confidential(request.user, report_id, data.reason)
        projected = projection.wait(recorded.position, wait_seconds(prefer))
        return _answer(watchlist, request.user, recorded, 200, projected)

    @get(
        "/",
        operation_id="listReports",
        summary="List reports: your organisation's (mine=true) or all you may see",
        guards=[READERS],
        sync_to_thread=True,
        responses=responses(
            200, ReportPage, EXAMPLE_PAGE, "a page of reports, newest first", 400, 401, 403
        ),
    )
    def list_reports(
        self,
        request: Request[Principal, str, State],
        watchlist: NamedDependency[Watchlist],
        mine: Annotated[bool, QueryParameter(description="only your organisation's")] = True,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> ReportPage:
        found = watchlist.list_reports(request.user, mine=mine, cursor=cursor, limit=limit)
        shown(request, reports=[report.id for report in found.items])
        return found
