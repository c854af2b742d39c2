"""The firm page: profile, risk explained, reports over time, timeline, due process,
and for investigators the decisions the API offers them."""

from __future__ import annotations

from typing import Annotated, Any, cast
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from projector import queries
from watchlist.api.access_log import shown
from watchlist.api.controllers.firm_records import (
    DECIDERS,
    Decision,
    FirmRecordController,
    _current_firm,
    reply_problems,
)
from watchlist.api.controllers.firms import _not_built
from watchlist.api.problems import problem
from watchlist.api.reading import DEFAULT_WAIT
from watchlist.application import Watchlist
from watchlist.domain.contract import LicenceCheck, Reply
from watchlist.domain.errors import InvalidInput
from watchlist.views import Principal
from watchlist.web.chart import reports_by_month
from watchlist.web.controllers.entry import Form
from watchlist.web.pages import page, see_other, see_when_projected
from watchlist.web.report_form import decode_document
from watchlist.web.session import PREFIX, signed_in

ConsoleRequest = Request[Principal, Any, Any]
LICENCE_FIELDS = ("registry", "status", "checked_on", "licence_number", "source")


def _firm_page(
    request: ConsoleRequest,
    watchlist: Watchlist,
    firm_id: UUID,
    status_code: int = 200,
    **context: Any,
) -> Response[Any]:
    viewer = request.user.organisation_id
    try:
        with watchlist.connection() as conn:
            profile = queries.firm(conn, viewer, firm_id, watchlist.taxonomy)
            timeline = queries.timeline(conn, viewer, firm_id, limit=500)
    except queries.NotProjected:
        raise _not_built() from None
    if isinstance(profile, queries.Moved):
        return see_other(f"{PREFIX}/firms/{profile.merged_into}")
    if profile is None or not isinstance(timeline, queries.Timeline):
        raise problem(404, "not-found", "No such firm", f"no firm {firm_id}")
    shown(request, reports=[item.report_id for item in timeline.items])
    organisations = {i.organisation_id: i.organisation for i in timeline.items if i.organisation}
    return page(
        request,
        "firm.html",
        status_code,
        profile=profile,
        timeline=timeline.items,
        chart=reports_by_month(timeline.items),
        organisations=organisations,
        taxonomy=watchlist.taxonomy,
        decider=request.user.role in ("investigator", "admin"),
        errors=context.pop("errors", {}),
        values=context.pop("values", {}),
        **context,
    )


def _field_errors(exc: InvalidInput, prefix: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in exc.errors:
        name = error.path.removeprefix("$").lstrip(".").split("[")[0] or "form"
        found.setdefault(f"{prefix}.{name}", []).append(error.message)
    return found


class FirmPages(Controller):
    path = "/firms"
    guards = [signed_in]  # noqa: RUF012 - Litestar's class attribute

    @get("/{firm_id:uuid}", sync_to_thread=True)
    def firm(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        firm_id: FromPath[UUID],
    ) -> Response[Any]:
        return _firm_page(request, watchlist, firm_id)

    @post("/{firm_id:uuid}/licence-checks", guards=[DECIDERS], sync_to_thread=True)
    def licence_check(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        firm_id: FromPath[UUID],
        data: Form,
    ) -> Response[Any]:
        typed = {name: data[name].strip() for name in LICENCE_FIELDS if data.get(name, "").strip()}
        typed.setdefault("registry", "")
        try:
            check = decode_document(typed, LicenceCheck)
        except InvalidInput as exc:
            errors = _field_errors(exc, "licence")
            return _firm_page(request, watchlist, firm_id, 422, errors=errors, values=data)
        firm = _current_firm(watchlist, request.user, firm_id)
        recorded = watchlist.record_licence_check(request.user, firm, check)
        return see_when_projected(request, recorded.position, f"{PREFIX}/firms/{firm}")

    @post("/{firm_id:uuid}/replies", guards=[DECIDERS], sync_to_thread=True)
    def reply(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        firm_id: FromPath[UUID],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        """Put the firm's reply on the record, marking the reports it disputes."""
        disputed = data.get("disputed_reports", [])
        typed = {
            name: data[name].strip()
            for name in ("statement", "received_on", "contact")
            if isinstance(data.get(name), str) and data[name].strip()
        }
        typed["statement"] = typed.get("statement", "")
        typed["disputed_reports"] = [disputed] if isinstance(disputed, str) else disputed
        firm = _current_firm(watchlist, request.user, firm_id)
        try:
            reply = decode_document(typed, Reply)
            if found := reply_problems(watchlist, request.user, firm, reply):
                raise InvalidInput(found)
        except InvalidInput as exc:
            errors = _field_errors(exc, "reply")
            return _firm_page(request, watchlist, firm_id, 422, errors=errors, values=data)
        recorded = watchlist.file_reply(request.user, firm, reply)
        return see_when_projected(request, recorded.position, f"{PREFIX}/firms/{firm}")

    @post("/{firm_id:uuid}/decisions", guards=[DECIDERS], sync_to_thread=True)
    def decide(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        firm_id: FromPath[UUID],
        data: Form,
    ) -> Response[Any]:
        """Link this firm with another, or keep them apart: the API's decision, from a form."""
        typed = {
            "firm_ids": [str(firm_id), data.get("other", "").strip()],
            "reason": data.get("reason", "").strip(),
        }
        try:
            decision = decode_document(typed, Decision)
        except InvalidInput as exc:
            errors = _field_errors(exc, "decision")
            if "decision.firm_ids" in errors:
                errors["decision.other"] = errors.pop("decision.firm_ids")
            return _firm_page(request, watchlist, firm_id, 422, errors=errors, values=data)
        answer = FirmRecordController._decide(
            cast("Request[Principal, str, Any]", request),
            watchlist,
            request.app.state.projection,
            decision,
            f"wait={DEFAULT_WAIT}",
            link=data.get("action") == "link",
        )
        return see_other(f"{PREFIX}/firms/{answer.content.firm_id or firm_id}")
