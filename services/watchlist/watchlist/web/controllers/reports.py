"""Reports in the console: the form, a report as recorded, amending and retracting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID, uuid4

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from watchlist.api.access_log import shown
from watchlist.api.auth import allow
from watchlist.api.reading import firm_of_report
from watchlist.application import Watchlist
from watchlist.domain.contract import Amendment, ReportBody, Resolution
from watchlist.domain.errors import FieldError, InvalidInput, NotPermitted
from watchlist.views import Principal, Recorded
from watchlist.web import report_form
from watchlist.web.controllers.entry import Form
from watchlist.web.pages import page, see_when_projected, words
from watchlist.web.session import PREFIX, signed_in

WRITERS = allow("reporter", "admin")
ConsoleRequest = Request[Principal, Any, Any]


def friendly(t: Callable[..., str]) -> Callable[[str, str], str]:
    """The checks' messages, in words an operator acts on where the check's own are cryptic."""

    def say(name: str, message: str) -> str:
        if name.endswith("country") and "does not match" in message:
            return t("error.country")
        if name == "subject.names" and ("non-empty" in message or "too short" in message):
            return t("error.names")
        if name.endswith(".date") and "not valid" in message:
            return t("error.date")
        if "is not one of" in message or "is not of type" in message:
            return t("error.choose")
        if name == "reason" and ("non-empty" in message or "too short" in message):
            return t("error.required")
        if name == "version":
            return t("error.version")
        return message

    return say


def _form_page(
    request: ConsoleRequest,
    watchlist: Watchlist,
    form: report_form.ReportForm,
    *,
    status_code: int = 200,
    amending: Any = None,
    idempotency_key: str = "",
) -> Response[Any]:
    return page(
        request,
        "report_form.html",
        status_code,
        form=form,
        taxonomy=watchlist.taxonomy,
        kinds=report_form.IDENTIFIER_KINDS,
        channels=report_form.CHANNELS,
        grades=report_form.GRADES,
        confidential_fields=report_form.CONFIDENTIAL,
        amending=amending,
        idempotency_key=idempotency_key or str(uuid4()),
    )


def _refused(
    request: ConsoleRequest,
    watchlist: Watchlist,
    data: dict[str, str],
    problems: list[FieldError],
    **context: Any,
) -> Response[Any]:
    t = words(request)
    form = report_form.with_errors(data, watchlist.taxonomy, problems, friendly(t))
    return _form_page(request, watchlist, form, status_code=422, **context)


def _report_page(
    request: ConsoleRequest,
    watchlist: Watchlist,
    report_id: UUID,
    status_code: int = 200,
    retract_error: str = "",
    resolve_errors: dict[str, str] | None = None,
) -> Response[Any]:
    """A report as its reader may see it, with its firm and level; for its own organisation's
    writers, the amend and retract actions."""
    record = watchlist.get_report(request.user, report_id)
    own = record.organisation_id == request.user.organisation_id
    writer = own and request.user.role in ("reporter", "admin") and record.status == "active"
    return page(
        request,
        "report.html",
        status_code,
        record=record,
        firm=firm_of_report(watchlist, request.user, report_id),
        writer=writer,
        taxonomy=watchlist.taxonomy,
        retract_error=retract_error,
        resolve_errors=resolve_errors or {},
        resolver=writer and record.dispute == "pending",
        recorded=request.query_params.get("recorded") == "1",
    )


def _show_recorded(request: ConsoleRequest, recorded: Recorded) -> Response[Any]:
    """After a change: the report, saying it was recorded, once the projector has placed it."""
    path = f"{PREFIX}/reports/{recorded.id}?recorded=1"
    return see_when_projected(request, recorded.position, path)


class ReportPages(Controller):
    path = "/reports"
    guards = [signed_in]  # noqa: RUF012 - Litestar's class attribute

    @get("/", sync_to_thread=True)
    def mine(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> Response[Any]:
        found = watchlist.list_reports(request.user, mine=True, cursor=cursor, limit=50)
        shown(request, reports=[report.id for report in found.items])
        return page(request, "reports.html", reports=found)

    @get("/new", guards=[WRITERS], sync_to_thread=False)
    def new(self, request: ConsoleRequest, watchlist: NamedDependency[Watchlist]) -> Response[Any]:
        return _form_page(request, watchlist, report_form.ReportForm())

    @post("/", guards=[WRITERS], sync_to_thread=True)
    def submit(
        self, request: ConsoleRequest, watchlist: NamedDependency[Watchlist], data: Form
    ) -> Response[Any]:
        key = data.get("idempotency_key") or None
        try:
            body = report_form.decode(data, watchlist.taxonomy, ReportBody)
            recorded = watchlist.submit_report(request.user, body, key)
        except InvalidInput as exc:
            return _refused(request, watchlist, data, exc.errors, idempotency_key=key or "")
        return _show_recorded(request, recorded)

    @get("/{report_id:uuid}", sync_to_thread=True)
    def read(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        report_id: FromPath[UUID],
    ) -> Response[Any]:
        return _report_page(request, watchlist, report_id)  # ?recorded=1 after a change

    @get("/{report_id:uuid}/amend", guards=[WRITERS], sync_to_thread=True)
    def amend_form(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        report_id: FromPath[UUID],
    ) -> Response[Any]:
        record = watchlist.get_report(request.user, report_id)
        if record.organisation_id != request.user.organisation_id:
            raise NotPermitted("only the organisation that submitted a report may change it")
        return _form_page(request, watchlist, report_form.from_body(record.report), amending=record)

    @post("/{report_id:uuid}/amend", guards=[WRITERS], sync_to_thread=True)
    def amend(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        report_id: FromPath[UUID],
        data: Form,
    ) -> Response[Any]:
        record = watchlist.get_report(request.user, report_id)
        data = {**data, "reason": data.get("reason", "")}
        version = report_form.small_int(data.get("version", ""))
        try:
            if version is None:  # the form always carries it: the amendment must name it
                raise InvalidInput(
                    [FieldError("$.version", "the version being amended is missing")]
                )
            amendment = report_form.decode(data, watchlist.taxonomy, Amendment)
            recorded = watchlist.amend_report(
                request.user, report_id, version, amendment.body(), amendment.reason
            )
        except InvalidInput as exc:
            return _refused(request, watchlist, data, exc.errors, amending=record)
        return _show_recorded(request, recorded)

    @post("/{report_id:uuid}/dispute-resolution", guards=[WRITERS], sync_to_thread=True)
    def resolve_dispute(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        report_id: FromPath[UUID],
        data: Form,
    ) -> Response[Any]:
        """Upheld or retracted. A correction carries an amended version: the API takes it."""
        typed = {"outcome": data.get("outcome", ""), "reason": data.get("reason", "").strip()}
        try:
            resolution = report_form.decode_document(typed, Resolution)
            recorded = watchlist.resolve_dispute(request.user, report_id, resolution)
        except InvalidInput as exc:
            say = friendly(words(request))
            errors = {
                e.path.removeprefix("$."): say(e.path.removeprefix("$."), e.message)
                for e in exc.errors
            }
            return _report_page(request, watchlist, report_id, 422, resolve_errors=errors)
        return _show_recorded(request, recorded)

    @post("/{report_id:uuid}/retraction", guards=[WRITERS], sync_to_thread=True)
    def retract(
        self,
        request: ConsoleRequest,
        watchlist: NamedDependency[Watchlist],
        report_id: FromPath[UUID],
        data: Form,
    ) -> Response[Any]:
        reason = data.get("reason", "").strip()
        if not reason or len(reason) > 2_000:
            t = words(request)
            return _report_page(request, watchlist, report_id, 422, t("error.required"))
        version = report_form.small_int(data.get("version", ""))
        if version is None:
            t = words(request)
            return _report_page(request, watchlist, report_id, 422, t("error.version"))
        recorded = watchlist.retract_report(request.user, report_id, reason, version)
        return _show_recorded(request, recorded)
