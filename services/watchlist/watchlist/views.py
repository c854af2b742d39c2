"""What commands and queries return: plain values the API serialises as they are."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from watchlist.domain.contract import Evidence, ReportBody, Sharing
from watchlist.domain.organisation import Role
from watchlist.domain.report import ReportStatus


class Principal(msgspec.Struct, frozen=True):
    """Who is asking: an organisation, through one of its keys, in one role."""

    organisation_id: UUID
    key_id: UUID
    role: Role


class IssuedKey(msgspec.Struct, frozen=True):
    key: str
    key_id: UUID
    role: Role
    organisation_id: UUID


class Recorded(msgspec.Struct, frozen=True):
    """A report command's outcome: the report, its new version, the log position."""

    id: UUID
    version: int
    position: int
    replayed: bool = False


ConfidentialState = Literal["visible", "sealed", "erased", "none"]


class ReportRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A report as one caller may see it; ``report.confidential`` only for its own organisation."""

    id: UUID
    organisation_id: UUID
    version: int
    status: ReportStatus
    submitted_at: datetime
    updated_at: datetime
    retraction_reason: str | None = None
    confidential: ConfidentialState
    report: ReportBody
    evidence: list[Evidence] = []
    dispute: str | None = None


class ReportSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    organisation_id: UUID
    version: int
    status: ReportStatus
    sharing: Sharing
    display_name: str
    country: str
    submitted_at: datetime
    updated_at: datetime


class ReportPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ReportSummary]
    next_cursor: str | None = None
