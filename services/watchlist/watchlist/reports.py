"""Reports: submitted, read, amended, retracted and listed, their confidential parts sealed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple
from uuid import UUID, uuid4

import msgspec
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, StoredEvent

from watchlist import cursors, sealing
from watchlist.app_base import WatchlistBase
from watchlist.domain.contract import (
    Evidence,
    Reply,
    ReportBody,
    Resolution,
    check_report,
    latest_allowed_date,
)
from watchlist.domain.errors import (
    ConfidentialAlreadyErased,
    DomainError,
    FieldError,
    IdempotencyKeyReused,
    InvalidInput,
    NotPermitted,
    ReportNotFound,
    VersionMismatch,
)
from watchlist.domain.organisation import Role
from watchlist.domain.reply import FirmReply
from watchlist.domain.report import Report, SealedConfidential
from watchlist.persistence import Statement, insert_rows
from watchlist.views import (
    Principal,
    Recorded,
    ReportPage,
    ReportRecord,
    ReportSummary,
)

CONFIDENTIAL_READERS: frozenset[Role] = frozenset({"reporter", "investigator", "admin"})


def body_digest(body: ReportBody) -> bytes:
    """What a repeated submission is compared by: the SHA-256 of the body's sorted JSON."""
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).digest()


class Submission(NamedTuple):
    """One report to submit, on behalf of whom, under which Idempotency-Key; its digest
    when the caller has it already (the import keys rows by it)."""

    principal: Principal
    body: ReportBody
    idempotency_key: str | None = None
    digest: bytes | None = None


class PreparedReports(NamedTuple):
    """Submissions checked and their new reports built, ready for one transaction."""

    submissions: Sequence[Submission]
    hashes: list[bytes]
    outcomes: list[Recorded | DomainError | None]  # None: fresh, or a repeat in the batch
    fresh: list[int]  # the submissions recorded as new reports, in order
    repeats: dict[int, int]  # a repeated submission: the first with its key in the batch
    reports: list[Report]
    stored_events: list[StoredEvent]
    writes: list[Statement]


class ReportCommands(WatchlistBase):
    def validate(self, body: ReportBody, latest: date | None = None) -> None:
        problems = check_report(body, self.taxonomy, latest)
        if problems:
            raise InvalidInput(problems)

    def submit_report(
        self, principal: Principal, body: ReportBody, idempotency_key: str | None = None
    ) -> Recorded:
        (outcome,) = self.submit_reports([Submission(principal, body, idempotency_key)])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def submit_reports(self, submissions: Sequence[Submission]) -> list[Recorded | DomainError]:
        """Record many submissions in one transaction, each with its own outcome.

        A refused submission (invalid, or an Idempotency-Key reused with another body)
        gets its error and takes nothing from the rest; a repeated one gets the first
        answer, marked replayed. If the shared transaction itself is refused (another
        writer took one of the idempotency keys first), each submission is retried on
        its own, so one conflict never fails its neighbours.
        """
        return self.record_reports(self.prepare_reports(submissions))

    def prepare_reports(self, submissions: Sequence[Submission]) -> PreparedReports:
        """``submit_reports`` up to its transaction: every submission checked, earlier ones
        under the same keys looked up, the new reports built, sealed and encoded.

        The bulk import prepares one batch while ``record_reports`` writes the one
        before: Python's share of the work overlaps the database's.
        """
        outcomes: list[Recorded | DomainError | None] = [None] * len(submissions)
        hashes = [_digest(s) for s in submissions]
        latest = latest_allowed_date()
        for i, submission in enumerate(submissions):
            try:
                self.validate(submission.body, latest)
            except InvalidInput as exc:
                # An answer, not a crash: kept without its traceback, whose frame (this
                # one, holding the whole batch) would otherwise wait for the cyclic
                # garbage collector, which the import runs only now and then.
                outcomes[i] = exc.with_traceback(None)
        earlier = self._earlier_submissions(
            [s for s, o in zip(submissions, outcomes, strict=True) if o is None]
        )
        first_in_batch: dict[tuple[UUID, str], int] = {}
        repeats: dict[int, int] = {}
        for i, submission in enumerate(submissions):
            key = submission.idempotency_key
            if outcomes[i] is not None or key is None:
                continue
            scope = (submission.principal.organisation_id, key)
            if scope in earlier:
                outcomes[i] = _repeat(key, hashes[i], *earlier[scope])
            elif scope in first_in_batch:
                repeats[i] = first_in_batch[scope]
            else:
                first_in_batch[scope] = i
        fresh = [i for i, outcome in enumerate(outcomes) if outcome is None and i not in repeats]
        new = self._build_new([submissions[i] for i in fresh], [hashes[i] for i in fresh])
        return PreparedReports(submissions, hashes, outcomes, fresh, repeats, *new)

    def record_reports(self, prepared: PreparedReports) -> list[Recorded | DomainError]:
        """The prepared reports in one transaction (see ``submit_reports``), and every
        submission's outcome."""
        submissions, hashes, outcomes = prepared.submissions, prepared.hashes, prepared.outcomes
        if prepared.fresh:
            try:
                positions = self._recorder().insert_events(
                    prepared.stored_events, writes=prepared.writes
                )
            except IntegrityError as exc:
                return self._after_conflict(submissions, hashes, exc)
            assert positions is not None
            for i, report, position in zip(
                prepared.fresh, prepared.reports, positions, strict=True
            ):
                outcomes[i] = Recorded(id=report.id, version=report.version, position=position)
        for i, first in prepared.repeats.items():
            original = outcomes[first]
            assert isinstance(original, Recorded)
            key = submissions[i].idempotency_key
            assert key is not None
            outcomes[i] = _repeat(key, hashes[i], hashes[first], original.id, original.position)
        answered = [o for o in outcomes if o is not None]
        assert len(answered) == len(submissions)
        return answered

    def _after_conflict(
        self, submissions: Sequence[Submission], hashes: Sequence[bytes], conflict: IntegrityError
    ) -> list[Recorded | DomainError]:
        """Another writer took an idempotency key first: answer each submission on its own."""
        if len(submissions) > 1:
            alone: list[Recorded | DomainError] = []
            for submission in submissions:
                try:
                    alone.append(
                        self.submit_report(
                            submission.principal, submission.body, submission.idempotency_key
                        )
                    )
                except DomainError as exc:
                    alone.append(exc)
            return alone
        (submission,) = submissions
        key = submission.idempotency_key
        won = self._earlier_submissions(submissions)
        if key is None or (submission.principal.organisation_id, key) not in won:
            raise conflict
        return [_repeat(key, hashes[0], *won[submission.principal.organisation_id, key])]

    def _build_new(
        self, submissions: Sequence[Submission], hashes: Sequence[bytes]
    ) -> tuple[list[Report], list[StoredEvent], list[Statement]]:
        """The new reports, their events as stored, and the write side's rows to go with them.

        Each report has one event, so the events' positions are the reports'.
        """
        reports: list[Report] = []
        keys: list[tuple[UUID, UUID, bytes]] = []
        idempotency: list[tuple[UUID, str, bytes, UUID]] = []
        for submission, request_hash in zip(submissions, hashes, strict=True):
            principal, body = submission.principal, submission.body
            report_id = uuid4()
            data_key = sealing.new_data_key()
            reports.append(
                Report.submit(
                    id=report_id,
                    organisation_id=principal.organisation_id,
                    key_id=principal.key_id,
                    content=body.content(),
                    confidential=self._seal(data_key, report_id, body),
                )
            )
            keys.append(
                (
                    report_id,
                    principal.organisation_id,
                    sealing.wrap_key(self._master_key, report_id, data_key),
                )
            )
            if submission.idempotency_key is not None:
                idempotency.append(
                    (principal.organisation_id, submission.idempotency_key, request_hash, report_id)
                )
        writes = [
            insert_rows(
                "watchlist_report_keys",
                [("report_id", "uuid"), ("organisation_id", "uuid"), ("wrapped_key", "bytea")],
                keys,
            ),
            _directory(*reports),
        ]
        if idempotency:
            writes.insert(
                0,
                insert_rows(
                    "watchlist_idempotency_keys",
                    [
                        ("organisation_id", "uuid"),
                        ("idempotency_key", "text"),
                        ("request_hash", "bytea"),
                        ("report_id", "uuid"),
                    ],
                    idempotency,
                ),
            )
        # Straight to the recorder: save() would check each aggregate against the library's
        # runtime protocols, which costs more per report than its insert.
        stored = [
            self.mapper.to_stored_event(event)
            for report in reports
            for event in report.collect_events()
        ]
        return reports, stored, writes

    def _earlier_submissions(
        self, submissions: Sequence[Submission]
    ) -> dict[tuple[UUID, str], tuple[bytes, UUID, int]]:
        """The submissions already recorded under these idempotency keys."""
        scopes = {
            (s.principal.organisation_id, s.idempotency_key)
            for s in submissions
            if s.idempotency_key is not None
        }
        if not scopes:
            return {}
        organisations, keys = zip(*scopes, strict=True)
        # Binary parameters (%b): psycopg writes a text array element by element in
        # Python, which for an import's batch of keys cost more than the query.
        rows = self._sql(
            "SELECT k.organisation_id, k.idempotency_key, k.request_hash, k.report_id, "
            "e.notification_id FROM unnest(%b::uuid[], %b::text[]) AS q(organisation_id, key) "
            "JOIN watchlist_idempotency_keys k "
            "ON k.organisation_id = q.organisation_id AND k.idempotency_key = q.key "
            "JOIN watchlist_events e ON e.originator_id = k.report_id AND e.originator_version = 1",
            (list(organisations), list(keys)),
        )
        return {
            (r["organisation_id"], r["idempotency_key"]): (
                bytes(r["request_hash"]),
                r["report_id"],
                r["notification_id"],
            )
            for r in rows
        }

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
                filed, *disputed, writes=[_directory(*disputed)] if disputed else []
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
                _directory(report),
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
            recordings = self.save(report, writes=[_directory(report)])
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

    @staticmethod
    def _seal(data_key: bytes, report_id: UUID, body: ReportBody) -> SealedConfidential | None:
        if body.confidential is None:
            return None
        return sealing.seal(data_key, report_id, body.confidential)


def _digest(submission: Submission) -> bytes:
    """What a submission under an Idempotency-Key is compared by. One without a key is never
    compared: hashing its sorted JSON would cost about as much as checking the report."""
    if submission.digest is not None:
        return submission.digest
    return body_digest(submission.body) if submission.idempotency_key is not None else b""


def _repeat(
    key: str, request_hash: bytes, first_hash: bytes, report_id: UUID, position: int
) -> Recorded | DomainError:
    """A submission under a key already used: the first answer, or 409 for another body."""
    if first_hash != request_hash:
        return IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was used before with a different body"
        )
    return Recorded(id=report_id, version=1, position=position, replayed=True)


def _directory(*reports: Report) -> Statement:
    """The reports' rows in the write side's directory, written with their events."""
    return insert_rows(
        "watchlist_reports",
        [
            ("report_id", "uuid"),
            ("organisation_id", "uuid"),
            ("sharing", "text"),
            ("status", "text"),
            ("version", "integer"),
            ("display_name", "text"),
            ("country", "text"),
            ("submitted_at", "timestamptz"),
            ("updated_at", "timestamptz"),
        ],
        [
            (
                report.id,
                report.organisation_id,
                report.content.sharing,
                report.status,
                report.version,
                report.content.subject.names[0],
                report.content.subject.country,
                report.submitted_at,
                report.modified_on,
            )
            for report in reports
        ],
        "ON CONFLICT (report_id) DO UPDATE SET sharing = excluded.sharing, "
        "status = excluded.status, version = excluded.version, "
        "display_name = excluded.display_name, country = excluded.country, "
        "updated_at = excluded.updated_at",
    )
