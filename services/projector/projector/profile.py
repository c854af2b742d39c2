"""A firm's profile: a pure function of its timeline entries.

Live profiles fold every entry; as-of profiles fold a prefix. Both go
through ``build_profile``, so they can never disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from uuid import UUID

import lz4.frame
import msgspec

from projector.entries import json_bytes
from projector.facts import typed
from projector.identity import NAME, identifier_key
from projector.model import Entry, ReportState, fold
from projector.risk import Assessment, assess, with_report
from watchlist.domain.contract import LicenceCheck, Reply
from watchlist.domain.taxonomy import Taxonomy


class SeenIdentifier(msgspec.Struct, frozen=True):
    kind: str
    value: str
    key: str


class ReportCounts(msgspec.Struct, frozen=True):
    total: int
    active: int
    retracted: int


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    firm_id: UUID
    display_name: str
    country: str
    names: list[str]
    identifiers: list[SeenIdentifier]
    destination_countries: list[str]
    jobs_offered: list[str]
    reports: ReportCounts
    organisations: int
    indicator_counts: dict[str, int]
    first_incident: date | None
    last_incident: date | None
    first_report_at: datetime | None
    last_report_at: datetime | None
    risk: Assessment
    licence: LicenceCheck | None = None
    replies: list[Reply] = []
    disputed_reports: list[UUID] = []
    report_ids: list[UUID]
    # Last, so that a stored profile's position is replaced in place as it is served.
    as_of_position: int


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def build_profile(
    firm_id: UUID, entries: Sequence[Entry], taxonomy: Taxonomy, as_of_position: int
) -> Profile:
    """The profile of the firm whose timeline is ``entries``, as of a log position."""
    upto = [e for e in entries if e.position <= as_of_position]
    facts = [e for e in upto if e.report_id is None]
    return profile_of(firm_id, fold(upto).values(), facts, taxonomy, as_of_position)


def profile_of(
    firm_id: UUID,
    states: Iterable[ReportState],
    facts: Sequence[Entry],
    taxonomy: Taxonomy,
    as_of_position: int,
) -> Profile:
    """The profile of a firm from its reports' states and the facts recorded about it
    (licence checks and replies, in log order): what ``build_profile`` folds entries into,
    and what the projector, which keeps report states, renders from directly."""
    checks = [e.licence for e in facts if e.licence]
    licence = checks[-1] if checks else None
    reports: list[ReportState] = sorted(states, key=_first_position)
    active = [r for r in reports if r.status == "active"]
    shown = active or reports
    names: list[str] = []
    identifiers: list[SeenIdentifier] = []
    seen_keys: set[str] = set()
    for r in shown:
        names += r.content.subject.names
        _add_identifiers(identifiers, seen_keys, r)
    incident_dates = sorted(d for r in active if (d := r.content.incident.date) is not None)
    indicator_counts = Counter(i.code for r in active for i in r.content.indicators)
    return Profile(
        firm_id=firm_id,
        display_name=shown[0].content.subject.names[0] if shown else "",
        country=shown[0].content.subject.country if shown else "",
        names=_unique(names),
        identifiers=identifiers,
        destination_countries=_unique(
            [r.content.incident.destination_country or "" for r in active]
        ),
        jobs_offered=_unique([r.content.incident.job_offered or "" for r in active]),
        reports=ReportCounts(
            total=len(reports), active=len(active), retracted=len(reports) - len(active)
        ),
        organisations=len({r.organisation_id for r in active}),
        indicator_counts=dict(sorted(indicator_counts.items())),
        first_incident=incident_dates[0] if incident_dates else None,
        last_incident=incident_dates[-1] if incident_dates else None,
        first_report_at=min((r.submitted_at for r in reports), default=None),
        last_report_at=max((r.submitted_at for r in reports), default=None),
        risk=assess(reports, taxonomy, licence),
        licence=licence,
        replies=[e.reply for e in facts if e.reply],
        disputed_reports=[r.report_id for r in reports if r.dispute == "pending"],
        report_ids=[r.report_id for r in reports],
        as_of_position=as_of_position,
    )


def joined(
    profile: Profile,
    report: ReportState,
    taxonomy: Taxonomy,
    *,
    organisation_counted: bool,
    as_of_position: int,
) -> Profile | None:
    """``profile`` with ``report``, an active report later than any of its firm's, added:
    what ``profile_of`` makes of the firm's reports and this one, without them.

    ``organisation_counted`` says whether the report's organisation has another active
    report in the firm. None where the answer needs the other reports: a firm with no
    active report shows its retracted ones, and one that becomes active hides them.
    """
    if (
        profile.reports.active == 0
        or report.status != "active"
        or report.first_position <= profile.as_of_position
    ):
        return None
    content = report.content
    identifiers = list(profile.identifiers)
    _add_identifiers(identifiers, {i.key for i in identifiers}, report)
    counts = Counter(profile.indicator_counts)
    counts.update(i.code for i in content.indicators)
    dates = [d for d in (profile.first_incident, profile.last_incident) if d is not None]
    if content.incident.date is not None:
        dates.append(content.incident.date)
    moments = [m for m in (profile.first_report_at, profile.last_report_at) if m is not None]
    moments.append(report.submitted_at)
    return msgspec.structs.replace(
        profile,
        names=_unique([*profile.names, *content.subject.names]),
        identifiers=identifiers,
        destination_countries=_unique(
            [*profile.destination_countries, content.incident.destination_country or ""]
        ),
        jobs_offered=_unique([*profile.jobs_offered, content.incident.job_offered or ""]),
        reports=ReportCounts(
            total=profile.reports.total + 1,
            active=profile.reports.active + 1,
            retracted=profile.reports.retracted,
        ),
        organisations=profile.organisations + (0 if organisation_counted else 1),
        indicator_counts=dict(sorted(counts.items())),
        first_incident=min(dates, default=None),
        last_incident=max(dates, default=None),
        first_report_at=min(moments),
        last_report_at=max(moments),
        risk=with_report(profile.risk, report, taxonomy),
        report_ids=[*profile.report_ids, report.report_id],
        as_of_position=as_of_position,
    )


def _add_identifiers(found: list[SeenIdentifier], keys: set[str], report: ReportState) -> None:
    """The report's identifiers and websites whose keys are not among ``keys``, in order."""
    for kind, value, country in typed(report.content):
        if kind == NAME:  # names are listed apart
            continue
        key = identifier_key(kind, value, country)
        if key and key not in keys:
            keys.add(key)
            found.append(SeenIdentifier(kind=kind, value=value, key=key))


def _first_position(report: ReportState) -> int:
    return report.first_position


def stored_profile(stored: bytes) -> Profile:
    """A profile as the read models store it (``packed``), decoded."""
    return msgspec.json.decode(unpacked(stored), type=Profile)


_POSITION_FIELD = b',"as_of_position":'


def packed(profile: Profile) -> bytes:
    """A profile as the read models store it: its JSON, compressed with lz4.

    A firm's profile grows with its reports (over 100 KB for the most reported) and is
    rewritten in every view whenever the firm changes. Compressed in the projector, it
    is a sixth of that to write, store and read back; lz4 costs a fraction of a
    millisecond either way, where PostgreSQL's own pglz costs more than it saves.
    """
    stored: bytes = lz4.frame.compress(json_bytes(profile))
    return stored


def unpacked(stored: bytes) -> bytes:
    """The JSON of a stored profile."""
    data: bytes = lz4.frame.decompress(stored)
    return data


def served(stored: bytes, position: int) -> bytes:
    """A stored profile as the answer of the read models at log ``position``: its
    ``as_of_position`` (the last field, when the firm last changed) replaced."""
    head, found, tail = unpacked(stored).rpartition(_POSITION_FIELD)
    assert found, "not a stored profile"
    assert tail[:-1].isdigit(), "not a stored profile"
    assert tail.endswith(b"}"), "not a stored profile"
    return b"%s%s%d}" % (head, found, position)
