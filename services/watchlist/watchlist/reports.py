"""Reports after their submission: read, amended, retracted, disputed and listed, their
confidential parts unsealed only for the organisation that sealed them."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from watchlist import cursors, sealing
from watchlist.domain.contract import Evidence, Reply, ReportBody, Resolution
from watchlist.domain.errors import (
    ConfidentialAlreadyErased,
    FieldError,
    InvalidInput,
    NotPermitted,
    ReportNotFound,
    VersionMismatch,
)
from watchlist.domain.organisation import Role
from watchlist.domain.reply import FirmReply
from watchlist.domain.report import Report
from watchlist.submissions import SubmissionCommands, directory_rows
from watchlist.views import Principal, Recorded, ReportPage, ReportRecord, ReportSummary

CONFIDENTIAL_READERS: frozenset[Role] = frozenset({"reporter", "investigator", "admin"})


class ReportCommands(SubmissionCommands):
    def amend_report(
        self,
        principal: Principal,
        report_id: UUID,
        expected_version: int,
        body: ReportBody,
        reason: str,
    ) -> Recorded:
        self.validate(body)
        report = self._own_report(principal, report_id)
        self._amend(report, principal, expected_version, body, reason)
        return self._save_report(report, expected_version)

    def _amend(
        self,
        report: Report,
        principal: Principal,
        expected_version: int,
        body: ReportBody,
        reason: str,
    ) -> None:
        sealed = None
        if body.confidential is not None:
            if report.confidential_erased:
                raise ConfidentialAlreadyErased(
                    "the confidential part was erased; an amendment cannot carry a new one"
                )
            sealed = sealing.seal(self._data_key(report.id), report.id, body.confidential)
        report.amend(
            expected_version=expected_version,
            key_id=principal.key_id,
            content=body.content(),
            confidential=sealed,
            reason=reason,
        )

    def resolve_dispute(
        self, principal: Principal, report_id: UUID, resolution: Resolution
    ) -> Recorded:
        """Upheld, corrected (with its amendment) or retracted: the submitting organisation's
        answer to a firm's dispute, or an admin's."""
        report = self._visible_report(principal, report_id)
        own = report.organisation_id == principal.organisation_id
        if principal.role != "admin" and not (own and principal.role == "reporter"):
            raise NotPermitted("the submitting organisation or an admin resolves a dispute")
        wants_amendment = resolution.outcome == "corrected"
        if wants_amendment != (resolution.amendment is not None):
            message = (
                "a correction carries its amendment"
                if wants_amendment
                else ("only a correction carries an amendment")
            )
            raise InvalidInput([FieldError("$.amendment", message)])
        report.resolve_dispute(
            key_id=principal.key_id, outcome=resolution.outcome, reason=resolution.reason
        )
        if resolution.amendment is not None:
            self.validate(resolution.amendment)
            self._amend(report, principal, report.version, resolution.amendment, resolution.reason)
        elif resolution.outcome == "retracted":
            report.retract(key_id=principal.key_id, reason=resolution.reason)
        return self._save_report(report, None)

    def file_reply(self, principal: Principal, firm_id: UUID, reply: Reply) -> Recorded:
        """Put a firm's reply on the record and mark each report it disputes."""
        filed = FirmReply.file(
            id=uuid4(),
            organisation_id=principal.organisation_id,
            key_id=principal.key_id,
            firm_id=firm_id,
            reply=reply,
        )
        disputed = [self._report(report_id) for report_id in reply.disputed_reports]
        for report in disputed:
            report.dispute(reply_id=filed.id)
        try:
            recordings = self.save(
                filed, *disputed, writes=[directory_rows(*disputed)] if disputed else []
            )
        except IntegrityError:  # a disputed report changed meanwhile
            first = disputed[0]
            raise VersionMismatch(first.version - 1, self._report(first.id).version) from None
        return Recorded(id=filed.id, version=1, position=recordings[-1].notification.id)

    def register_evidence(
        self, principal: Principal, report_id: UUID, evidence: Evidence
    ) -> Recorded:
        report = self._own_report(principal, report_id)
        report.register_evidence(key_id=principal.key_id, evidence=evidence)
        return self._save_report(report, None)

    def erase_confidential(self, principal: Principal, report_id: UUID, reason: str) -> Recorded:
        """Destroy the report's data key: its confidential part, every version, is gone for
        good. The events stay as they were, so the log still replays and verifies."""
        report = self._own_report(principal, report_id)
        if principal.role != "admin":
            raise NotPermitted("only an admin of the submitting organisation may erase")
        report.erase_confidential(key_id=principal.key_id, reason=reason)
        recordings = self.save(
            report,
            writes=[
                directory_rows(report),
                (
                    "UPDATE watchlist_report_keys SET wrapped_key = NULL, erased_at = now() "
                    "WHERE report_id = %s",
                    (report_id,),
                ),
            ],
        )
        # Best effort: let the old row version, still holding the wrapped key, leave the
        # table now rather than at the next autovacuum (see docs/auditing.md).
        with self.connection() as conn:
            conn.execute("VACUUM watchlist_report_keys")
        return Recorded(
            id=report.id, version=report.version, position=recordings[-1].notification.id
        )

    def retract_report(
        self,
        principal: Principal,
        report_id: UUID,
        reason: str,
        expected_version: int | None = None,
    ) -> Recorded:
        report = self._own_report(principal, report_id)
        report.retract(key_id=principal.key_id, reason=reason, expected_version=expected_version)
        return self._save_report(report, expected_version)

    def _save_report(self, report: Report, expected_version: int | None) -> Recorded:
        try:
            recordings = self.save(report, writes=[directory_rows(report)])
        except IntegrityError:
            # Another change to this report committed first.
            raise VersionMismatch(
                expected_version or report.version - 1, self._report(report.id).version
            ) from None
        return Recorded(
            id=report.id, version=report.version, position=recordings[-1].notification.id
        )

    def get_report(self, principal: Principal, report_id: UUID) -> ReportRecord:
        report = self._visible_report(principal, report_id)
        own = report.organisation_id == principal.organisation_id
        confidential = None
        state = "none" if report.confidential is None else "sealed"
        if report.confidential_erased:
            state = "erased"
        elif own and report.confidential is not None and principal.role in CONFIDENTIAL_READERS:
            confidential = sealing.unseal(self._data_key(report_id), report_id, report.confidential)
            state = "visible"
        fields = {f: getattr(report.content, f) for f in report.content.__struct_fields__}
        return ReportRecord(
            id=report.id,
            organisation_id=report.organisation_id,
            version=report.version,
            status=report.status,
            submitted_at=report.submitted_at,
            updated_at=report.modified_on or report.submitted_at,
            retraction_reason=report.retraction_reason,
            confidential=state,  # type: ignore[arg-type]
            report=ReportBody(**fields, confidential=confidential),
            evidence=report.evidence,
            dispute=report.dispute_state,
        )

    def list_reports(
        self, principal: Principal, *, mine: bool, cursor: str | None, limit: int
    ) -> ReportPage:
        after = cursors.decode_int(cursor, 2**63 - 1)
        where = "organisation_id = %s" if mine else "(organisation_id = %s OR sharing = 'partners')"
        rows = self._sql(
            "SELECT report_id AS id, organisation_id, version, status, sharing, display_name, "
            "country, submitted_at, updated_at, seq FROM watchlist_reports "
            f"WHERE {where} AND seq < %s ORDER BY seq DESC LIMIT %s",
            (principal.organisation_id, after, limit + 1),
        )
        more = len(rows) > limit
        rows = rows[:limit]
        items = [ReportSummary(**{k: v for k, v in r.items() if k != "seq"}) for r in rows]
        next_cursor = cursors.encode(rows[-1]["seq"]) if more else None
        return ReportPage(items=items, next_cursor=next_cursor)

    def _report(self, report_id: UUID) -> Report:
        try:
            report: Report = self.repository.get(report_id)
        except AggregateNotFoundError:
            raise ReportNotFound(f"no report {report_id}") from None
        if not isinstance(report, Report):
            raise ReportNotFound(f"no report {report_id}")
        return report

    def _visible_report(self, principal: Principal, report_id: UUID) -> Report:
        report = self._report(report_id)
        if (
            report.organisation_id != principal.organisation_id
            and report.content.sharing != "partners"
        ):
            # A private report does not exist for anyone else: not even a 403.
            raise ReportNotFound(f"no report {report_id}")
        return report

    def _own_report(self, principal: Principal, report_id: UUID) -> Report:
        report = self._visible_report(principal, report_id)
        if report.organisation_id != principal.organisation_id:
            raise NotPermitted("only the organisation that submitted a report may change it")
        return report

    def _data_key(self, report_id: UUID) -> bytes:
        rows = self._sql(
            "SELECT wrapped_key FROM watchlist_report_keys WHERE report_id = %s", (report_id,)
        )
        if not rows or rows[0]["wrapped_key"] is None:
            raise sealing.SealError(f"report {report_id} has no data key")
        return sealing.unwrap_key(self._master_key, report_id, bytes(rows[0]["wrapped_key"]))
