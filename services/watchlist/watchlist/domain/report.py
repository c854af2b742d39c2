"""The Report aggregate: a partner organisation's account of one recruiter.

A report is a fact. It is amended by a full new version with a reason and
retracted with a reason; nothing is ever rewritten. Its confidential part
travels only sealed (see ``watchlist.sealing``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from watchlist.domain.base import Aggregate, DomainEvent
from watchlist.domain.contract import Evidence, Outcome, ReportContent
from watchlist.domain.errors import (
    ConfidentialAlreadyErased,
    EvidenceAlreadyRegistered,
    NoDisputePending,
    ReportAlreadyRetracted,
    VersionMismatch,
)

ReportStatus = Literal["active", "retracted"]
DisputeState = Literal["pending", "upheld", "corrected", "retracted"]


class SealedConfidential(msgspec.Struct, frozen=True, kw_only=True):
    """A confidential part encrypted with the report's own data key, held outside the log."""

    algorithm: Literal["AES-256-GCM"] = "AES-256-GCM"
    nonce: bytes
    ciphertext: bytes


class ReportEvent(DomainEvent, frozen=True, kw_only=True):
    def mutate(self, aggregate: Report | None) -> Report:
        result: Report = super().mutate(aggregate)
        return result


class ReportSubmitted(ReportEvent, frozen=True, kw_only=True):
    organisation_id: UUID
    key_id: UUID
    content: ReportContent
    confidential: SealedConfidential | None = None


class ReportAmended(ReportEvent, frozen=True, kw_only=True):
    key_id: UUID
    content: ReportContent
    confidential: SealedConfidential | None = None
    reason: str


class ReportRetracted(ReportEvent, frozen=True, kw_only=True):
    key_id: UUID
    reason: str


class ConfidentialPartErased(ReportEvent, frozen=True, kw_only=True):
    """The report's data key was destroyed: every sealed version is unreadable for good."""

    key_id: UUID
    reason: str


class EvidenceRegistered(ReportEvent, frozen=True, kw_only=True):
    key_id: UUID
    evidence: Evidence


class ReportDisputed(ReportEvent, frozen=True, kw_only=True):
    """The firm's reply disputes this report."""

    reply_id: UUID


class DisputeResolved(ReportEvent, frozen=True, kw_only=True):
    key_id: UUID
    outcome: Outcome
    reason: str


class Report(Aggregate):
    """One report, as its events tell it."""

    organisation_id: UUID
    content: ReportContent
    confidential: SealedConfidential | None
    status: ReportStatus
    submitted_at: datetime
    retraction_reason: str | None
    confidential_erased: bool
    evidence: list[Evidence]
    dispute_state: DisputeState | None

    @classmethod
    def submit(
        cls,
        *,
        id: UUID,
        organisation_id: UUID,
        key_id: UUID,
        content: ReportContent,
        confidential: SealedConfidential | None,
    ) -> Report:
        report = cls.blank(id)
        report.trigger(
            ReportSubmitted,
            organisation_id=organisation_id,
            key_id=key_id,
            content=content,
            confidential=confidential,
        )
        return report

    def amend(
        self,
        *,
        expected_version: int,
        key_id: UUID,
        content: ReportContent,
        confidential: SealedConfidential | None,
        reason: str,
    ) -> None:
        self._check_open(expected_version)
        self.trigger(
            ReportAmended,
            key_id=key_id,
            content=content,
            confidential=confidential,
            reason=reason,
        )

    def retract(self, *, key_id: UUID, reason: str, expected_version: int | None = None) -> None:
        self._check_open(expected_version)
        self.trigger(ReportRetracted, key_id=key_id, reason=reason)

    def erase_confidential(self, *, key_id: UUID, reason: str) -> None:
        if self.confidential_erased:
            raise ConfidentialAlreadyErased(f"the confidential part of report {self.id} is erased")
        self.trigger(ConfidentialPartErased, key_id=key_id, reason=reason)

    def register_evidence(self, *, key_id: UUID, evidence: Evidence) -> None:
        self._check_open(None)
        if any(e.sha256 == evidence.sha256 for e in self.evidence):
            raise EvidenceAlreadyRegistered(
                f"a file with SHA-256 {evidence.sha256} is already registered on this report"
            )
        self.trigger(EvidenceRegistered, key_id=key_id, evidence=evidence)

    def dispute(self, *, reply_id: UUID) -> None:
        self.trigger(ReportDisputed, reply_id=reply_id)

    def resolve_dispute(self, *, key_id: UUID, outcome: Outcome, reason: str) -> None:
        if self.dispute_state != "pending":
            raise NoDisputePending(f"report {self.id} has no pending dispute")
        self.trigger(DisputeResolved, key_id=key_id, outcome=outcome, reason=reason)

    def _check_open(self, expected_version: int | None) -> None:
        if self.status == "retracted":
            raise ReportAlreadyRetracted(f"report {self.id} was retracted")
        if expected_version is not None and expected_version != self.version:
            raise VersionMismatch(expected_version, self.version)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case ReportSubmitted():
                self.organisation_id = event.organisation_id
                self.content = event.content
                self.confidential = event.confidential
                self.status = "active"
                self.submitted_at = event.timestamp
                self.retraction_reason = None
                self.confidential_erased = False
                self.evidence = []
                self.dispute_state = None
            case ReportAmended():
                self.content = event.content
                self.confidential = event.confidential
            case ConfidentialPartErased():
                self.confidential_erased = True
            case EvidenceRegistered():
                self.evidence = [*self.evidence, event.evidence]
            case ReportDisputed():
                self.dispute_state = "pending"
            case DisputeResolved():
                self.dispute_state = event.outcome
            case ReportRetracted():
                self.status = "retracted"
                self.retraction_reason = event.reason
            case _:
                raise TypeError(f"a report cannot apply {type(event).__name__}")


ReportEvent.aggregate_class = Report
