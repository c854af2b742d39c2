"""What the projector's pure functions work on: timeline entries and report states."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from watchlist.domain.contract import LicenceCheck, Reply, ReportContent

if TYPE_CHECKING:
    from projector.risk import Contribution

# The view every organisation sees: shared reports only. An organisation's own view,
# where its private reports reshape a cluster, is named by its id.
PARTNERS = "partners"

EntryKind = Literal[
    "submitted",
    "amended",
    "retracted",
    "erased",
    "evidence",
    "linked",
    "separated",
    "licence_check",
    "reply",
    "disputed",
    "resolved",
]


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """One event in a firm's timeline, in log order."""

    position: int
    time: datetime
    kind: EntryKind
    report_id: UUID | None = None
    organisation_id: UUID | None = None
    content: ReportContent | None = None
    reason: str | None = None
    firm_a: UUID | None = None
    firm_b: UUID | None = None
    licence: LicenceCheck | None = None
    reply: Reply | None = None
    outcome: str | None = None


class ReportState(msgspec.Struct, kw_only=True):
    """A report as its entries up to some position leave it."""

    report_id: UUID
    organisation_id: UUID
    status: Literal["active", "retracted"]
    content: ReportContent
    submitted_at: datetime
    updated_at: datetime
    first_position: int
    last_position: int
    dispute: str | None = None
    # What the risk model made of this state (risk.contributions); cleared when it changes.
    contributions: list[Contribution] | None = None


def fold(
    entries: Iterable[Entry], states: dict[UUID, ReportState] | None = None
) -> dict[UUID, ReportState]:
    """Report states from entries (in position order), or ``states`` carried on by them."""
    states = {} if states is None else states
    for entry in entries:
        if entry.report_id is None or entry.organisation_id is None:
            continue
        state = states.get(entry.report_id)
        if entry.kind == "submitted" and entry.content is not None:
            states[entry.report_id] = ReportState(
                report_id=entry.report_id,
                organisation_id=entry.organisation_id,
                status="active",
                content=entry.content,
                submitted_at=entry.time,
                updated_at=entry.time,
                first_position=entry.position,
                last_position=entry.position,
            )
        elif state is not None:
            if entry.kind == "amended" and entry.content is not None:
                state.content = entry.content
            elif entry.kind == "retracted":
                state.status = "retracted"
            elif entry.kind == "disputed":
                state.dispute = "pending"
            elif entry.kind == "resolved":
                state.dispute = entry.outcome
            state.updated_at = entry.time
            state.contributions = None
            state.last_position = entry.position
    return states
