"""The report body: the public contract partner organisations write to.

msgspec checks types, lengths and enumerations while decoding; ``check_report``
adds what a type cannot say (real country codes, known indicator codes, no
future dates, no blank names) and reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from watchlist.domain.countries import COUNTRY_CODES
from watchlist.domain.errors import FieldError
from watchlist.domain.taxonomy import Taxonomy

Text = Annotated[str, Meta(min_length=1, max_length=300)]
LongText = Annotated[str, Meta(max_length=20_000)]
Note = Annotated[str, Meta(max_length=2_000)]
Reason = Annotated[str, Meta(min_length=1, max_length=2_000)]
CountryCode = Annotated[
    str, Meta(pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["KZ"])
]
IdentifierKind = Literal["phone", "bin", "licence", "website", "email", "social"]
Grade = Literal["confirmed", "reported", "suspected"]
Channel = Literal[
    "hotline_call", "walk_in", "online_ad", "social_media", "media", "referral", "other"
]
Sharing = Literal["private", "partners"]


class Contract(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every body the API accepts: unknown fields are refused."""


class Identifier(Contract, frozen=True, kw_only=True):
    kind: IdentifierKind
    value: Text


class Subject(Contract, frozen=True, kw_only=True):
    """The recruiter as the reporter saw it."""

    names: Annotated[list[Text], Meta(min_length=1, max_length=20)]
    country: CountryCode
    identifiers: Annotated[list[Identifier], Meta(max_length=50)] = []
    addresses: Annotated[
        list[Annotated[str, Meta(min_length=1, max_length=500)]], Meta(max_length=20)
    ] = []
    websites: Annotated[list[Text], Meta(max_length=20)] = []


class Incident(Contract, frozen=True, kw_only=True):
    date: date | None = None
    region: Annotated[str, Meta(max_length=200)] | None = None
    destination_country: CountryCode | None = None
    job_offered: Annotated[str, Meta(max_length=200)] | None = None
    channel: Channel | None = None


class IndicatorReport(Contract, frozen=True, kw_only=True):
    code: Annotated[str, Meta(pattern="^[a-z][a-z0-9_]{0,63}$")]
    grade: Grade


class Source(Contract, frozen=True, kw_only=True):
    """The admiralty scale: reliability of the source, credibility of the information."""

    reliability: Literal["A", "B", "C", "D", "E", "F"]
    credibility: Annotated[int, Meta(ge=1, le=6)]


class Confidential(Contract, frozen=True, kw_only=True):
    """Caller or victim details. Sealed: they never leave the submitting organisation."""

    caller_name: Annotated[str, Meta(max_length=300)] | None = None
    caller_phone: Annotated[str, Meta(max_length=100)] | None = None
    caller_email: Annotated[str, Meta(max_length=300)] | None = None
    victim_name: Annotated[str, Meta(max_length=300)] | None = None
    notes: Note | None = None


class ReportContent(Contract, frozen=True, kw_only=True):
    """Everything in a report that may be shared; what events carry in clear."""

    subject: Subject
    source: Source
    sharing: Sharing
    incident: Incident = Incident()
    indicators: Annotated[list[IndicatorReport], Meta(max_length=100)] = []
    narrative: LongText = ""


class ReportBody(ReportContent, frozen=True, kw_only=True):
    """A report as submitted: the shareable content and the confidential part."""

    confidential: Confidential | None = None

    def content(self) -> ReportContent:
        fields = {f: getattr(self, f) for f in ReportContent.__struct_fields__}
        return ReportContent(**fields)


class Amendment(ReportBody, frozen=True, kw_only=True):
    """A full new version of a report, with the reason for the change."""

    reason: Reason

    def body(self) -> ReportBody:
        return ReportBody(**{f: getattr(self, f) for f in ReportBody.__struct_fields__})


class Retraction(Contract, frozen=True, kw_only=True):
    reason: Reason


class Erasure(Contract, frozen=True, kw_only=True):
    reason: Reason


class Evidence(Contract, frozen=True, kw_only=True):
    """A file the organisation holds, registered by its hash: the file never leaves it."""

    sha256: Annotated[str, Meta(pattern="^[0-9a-f]{64}$", description="lower-case hex")]
    media_type: Annotated[str, Meta(pattern="^[a-z0-9.+-]+/[a-z0-9.+-]+$", max_length=100)]
    size: Annotated[int, Meta(ge=0, le=10 * 1024**3)]
    description: Annotated[str, Meta(max_length=2_000)] = ""


def latest_allowed_date() -> date:
    """Today somewhere on Earth: a date is in the future only if it is tomorrow everywhere."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def check_report(
    body: ReportContent, taxonomy: Taxonomy, latest: date | None = None
) -> list[FieldError]:
    """What msgspec's types cannot check; an empty list when the body is sound.

    ``latest`` is the latest allowed date (``latest_allowed_date()`` when not given): a
    batch of bodies checked at once reads the clock once.
    """
    return list(_problems(body, taxonomy, latest or latest_allowed_date()))


def _problems(body: ReportContent, taxonomy: Taxonomy, latest: date) -> Iterator[FieldError]:
    subject, incident = body.subject, body.incident
    for i, name in enumerate(subject.names):
        if not name.strip():
            yield FieldError(f"$.subject.names[{i}]", "a name must not be blank")
    for i, ident in enumerate(subject.identifiers):
        if not ident.value.strip():
            yield FieldError(f"$.subject.identifiers[{i}].value", "must not be blank")
    if subject.country not in COUNTRY_CODES:
        yield FieldError("$.subject.country", f"{subject.country!r} is not an ISO 3166-1 code")
    dest = incident.destination_country
    if dest is not None and dest not in COUNTRY_CODES:
        yield FieldError("$.incident.destination_country", f"{dest!r} is not an ISO 3166-1 code")
    if incident.date is not None and incident.date > latest:
        yield FieldError("$.incident.date", f"{incident.date.isoformat()} is in the future")
    seen: set[str] = set()
    for i, indicator in enumerate(body.indicators):
        path = f"$.indicators[{i}].code"
        if indicator.code not in taxonomy:
            yield FieldError(path, f"unknown indicator code {indicator.code!r}")
        elif indicator.code in seen:
            yield FieldError(path, f"indicator {indicator.code!r} is listed twice")
        seen.add(indicator.code)


LicenceStatus = Literal["valid", "suspended", "revoked", "none_found"]


class LicenceCheck(Contract, frozen=True, kw_only=True):
    """An investigator's check of a firm's licence against a registry."""

    registry: Annotated[str, Meta(min_length=1, max_length=200)]
    status: LicenceStatus
    checked_on: date
    licence_number: Annotated[str, Meta(max_length=100)] | None = None
    source: Annotated[str, Meta(max_length=500)] | None = None


class Reply(Contract, frozen=True, kw_only=True):
    """A named firm's answer, on the record: what it says and which reports it disputes."""

    statement: Annotated[str, Meta(min_length=1, max_length=20_000)]
    received_on: date
    contact: Annotated[str, Meta(max_length=300)] | None = None
    disputed_reports: Annotated[list[UUID], Meta(max_length=100)] = []
    evidence_sha256: Annotated[
        list[Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]], Meta(max_length=50)
    ] = []


Outcome = Literal["upheld", "corrected", "retracted"]


class Resolution(Contract, frozen=True, kw_only=True):
    """How the submitting organisation resolves a dispute; a correction carries the amendment."""

    outcome: Outcome
    reason: Reason
    amendment: ReportBody | None = None
