"""Submissions: reports checked, sealed and recorded many to a transaction.

The API's group commit and the bulk import both hand batches of submissions
here; each gets its own outcome, so one refused report never fails the others,
and an Idempotency-Key answers a repeat with the first answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple
from uuid import UUID, uuid4

import msgspec
from eventsourcing.persistence import IntegrityError, StoredEvent

from watchlist import sealing
from watchlist.app_base import WatchlistBase
from watchlist.domain.contract import ReportBody, check_report, latest_allowed_date
from watchlist.domain.errors import DomainError, IdempotencyKeyReused, InvalidInput
from watchlist.domain.report import Report, SealedConfidential
from watchlist.persistence import Statement, insert_rows
from watchlist.views import Principal, Recorded


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


class SubmissionCommands(WatchlistBase):
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
            directory_rows(*reports),
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


def directory_rows(*reports: Report) -> Statement:
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
