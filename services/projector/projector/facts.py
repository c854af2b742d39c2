"""What events say about reports, organisations and decisions, folded in memory.

The live projector folds one batch at a time onto the rows of the reports it
changes; a replay folds the whole log onto rows it keeps. Both fold with
``Facts.add``, so they cannot disagree about what a run of events means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from projector.identity import NAME, match_key
from projector.model import Entry, EntryKind
from watchlist.domain.base import DomainEvent
from watchlist.domain.contract import ReportContent
from watchlist.domain.decision import FirmDecisionEvent, FirmsLinked
from watchlist.domain.licence import LicenceCheckRecorded
from watchlist.domain.organisation import OrganisationRegistered
from watchlist.domain.reply import ReplyFiled
from watchlist.domain.report import (
    ConfidentialPartErased,
    DisputeResolved,
    EvidenceRegistered,
    ReportAmended,
    ReportDisputed,
    ReportRetracted,
    ReportSubmitted,
)

# Columns of a report row while events are folded (see the reports table).
REPORT_COLUMNS = [
    ("report_id", "uuid"),
    ("organisation_id", "uuid"),
    ("sharing", "text"),
    ("status", "text"),
    ("version", "integer"),
    ("first_position", "bigint"),
    ("last_position", "bigint"),
]
ORGANISATION, SHARING, STATUS, VERSION, FIRST, LAST = 1, 2, 3, 4, 5, 6


def typed(content: ReportContent) -> Iterator[tuple[str, str, str]]:
    """What the reporter typed that keys are found from: (kind, value, country), a
    name's kind being ``NAME``."""
    subject = content.subject
    country = subject.country
    for identifier in subject.identifiers:
        yield identifier.kind, identifier.value, country
    for website in subject.websites:
        yield "website", website, country
    for name in subject.names:
        yield NAME, name, country


def match_keys(content: ReportContent) -> set[str]:
    return {found for item in typed(content) if (found := match_key(*item))}


@dataclass
class Facts:
    """Report rows (as the reports table holds them), their match keys, organisations'
    names, the latest decision about each pair of firms, and the firms named by facts."""

    reports: dict[UUID, list[Any]]
    keys: dict[UUID, set[str]] = field(default_factory=dict)
    organisations: dict[UUID, str] = field(default_factory=dict)
    decisions: dict[tuple[UUID, UUID], tuple[str, int]] = field(default_factory=dict)
    named_firms: set[UUID] = field(default_factory=set)
    # Where a report's content goes for its match keys: by default they are found at once,
    # into ``keys``; a replay has them found in a second process (``replay.Keys``).
    find_keys: Callable[[UUID, ReportContent], None] | None = None

    def _content(self, rid: UUID, content: ReportContent) -> None:
        if self.find_keys is None:
            self.keys[rid] = match_keys(content)
        else:
            self.find_keys(rid, content)

    def add(self, batch: Sequence[tuple[int, DomainEvent]]) -> list[Entry]:
        """Fold ``batch`` (in log order) in; its timeline entries, in log order."""
        reports, made = self.reports, []
        for position, event in batch:
            entry: Entry | None = None
            rid = event.originator_id
            match event:
                case OrganisationRegistered():
                    self.organisations[rid] = event.name
                case ReportSubmitted():
                    reports[rid] = [
                        rid,
                        event.organisation_id,
                        event.content.sharing,
                        "active",
                        event.originator_version,
                        position,
                        position,
                    ]
                    self._content(rid, event.content)
                    entry = Entry(
                        position=position,
                        time=event.timestamp,
                        kind="submitted",
                        report_id=rid,
                        organisation_id=event.organisation_id,
                        content=event.content,
                    )
                case ReportAmended():
                    row = reports[rid]
                    row[SHARING], row[VERSION], row[LAST] = (
                        event.content.sharing,
                        event.originator_version,
                        position,
                    )
                    self._content(rid, event.content)
                    entry = Entry(
                        position=position,
                        time=event.timestamp,
                        kind="amended",
                        report_id=rid,
                        organisation_id=row[ORGANISATION],
                        content=event.content,
                        reason=event.reason,
                    )
                case ReportRetracted():
                    row = reports[rid]
                    row[STATUS], row[VERSION], row[LAST] = (
                        "retracted",
                        event.originator_version,
                        position,
                    )
                    entry = Entry(
                        position=position,
                        time=event.timestamp,
                        kind="retracted",
                        report_id=rid,
                        organisation_id=row[ORGANISATION],
                        reason=event.reason,
                    )
                case ConfidentialPartErased() | EvidenceRegistered():
                    row = reports[rid]
                    row[VERSION], row[LAST] = event.originator_version, position
                    entry = Entry(
                        position=position,
                        time=event.timestamp,
                        kind="erased" if isinstance(event, ConfidentialPartErased) else "evidence",
                        report_id=rid,
                        organisation_id=row[ORGANISATION],
                        reason=_note(event),
                    )
                case ReplyFiled() | LicenceCheckRecorded():
                    self.named_firms.add(event.firm_id)
                    entry = _firm_fact(position, event)
                case ReportDisputed() | DisputeResolved():
                    row = reports[rid]
                    row[VERSION], row[LAST] = event.originator_version, position
                    resolved = isinstance(event, DisputeResolved)
                    entry = Entry(
                        position=position,
                        time=event.timestamp,
                        kind="resolved" if resolved else "disputed",
                        report_id=rid,
                        organisation_id=row[ORGANISATION],
                        outcome=event.outcome if isinstance(event, DisputeResolved) else None,
                        reason=event.reason if isinstance(event, DisputeResolved) else None,
                    )
                case FirmDecisionEvent():
                    kind: EntryKind = "linked" if isinstance(event, FirmsLinked) else "separated"
                    pair = tuple(sorted((event.firm_a, event.firm_b)))
                    self.decisions[pair] = (kind, position)  # type: ignore[index]
                    self.named_firms |= set(pair)
                    entry = Entry(
                        position=position,
                        time=event.timestamp,
                        kind=kind,
                        organisation_id=event.organisation_id,
                        reason=event.reason,
                        firm_a=event.firm_a,
                        firm_b=event.firm_b,
                    )
            if entry is not None:
                made.append(entry)
        return made

    def decision_rows(self) -> list[tuple[UUID, UUID, str, int]]:
        return [(a, b, kind, position) for (a, b), (kind, position) in self.decisions.items()]

    def key_rows(self) -> list[tuple[UUID, str]]:
        return [(r, k) for r, ks in self.keys.items() for k in ks]


def _firm_fact(position: int, event: ReplyFiled | LicenceCheckRecorded) -> Entry:
    """The timeline entry of a fact recorded about a firm, not about one of its reports."""
    reply = event.reply if isinstance(event, ReplyFiled) else None
    return Entry(
        position=position,
        time=event.timestamp,
        kind="reply" if reply else "licence_check",
        organisation_id=event.organisation_id,
        firm_a=event.firm_id,
        reply=reply,
        licence=event.check if isinstance(event, LicenceCheckRecorded) else None,
    )


def _note(event: ConfidentialPartErased | EvidenceRegistered) -> str:
    if isinstance(event, ConfidentialPartErased):
        return event.reason
    file = event.evidence
    return f"{file.media_type}, {file.size} bytes, SHA-256 {file.sha256}: {file.description}"
