"""The report form: fields in, the API's JSON body out; the API's field paths back to fields.

The form is turned into exactly the JSON body the API takes and checked by the
same strict decoder, so the console and the API can never disagree on what a
valid report is. Blank optional fields are left out; required ones are always
sent, so that a blank one is named by the checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from watchlist import decoding
from watchlist.domain.contract import ReportBody
from watchlist.domain.errors import FieldError
from watchlist.domain.taxonomy import Taxonomy

IDENTIFIER_KINDS = ("phone", "bin", "licence", "website", "email", "social")
CHANNELS = ("hotline_call", "walk_in", "online_ad", "social_media", "media", "referral", "other")
GRADES = ("confirmed", "reported", "suspected")
CONFIDENTIAL = ("caller_name", "caller_phone", "caller_email", "victim_name", "notes")
INCIDENT = ("date", "region", "destination_country", "job_offered", "channel")
LINES = ("names", "addresses", "websites")
MIN_IDENTIFIER_ROWS = 4

_INDICATOR = re.compile(r"^\$\.indicators\[(\d+)\]")
_IDENTIFIER = re.compile(r"^\$\.subject\.identifiers\[(\d+)\](?:\.(kind|value))?")
_LINE = re.compile(r"^\$\.subject\.(names|addresses|websites)(?:\[(\d+)\])?")


@dataclass
class ReportForm:
    """What the form shows: the values typed (as strings) and the messages beside fields."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    identifier_rows: int = MIN_IDENTIFIER_ROWS

    def value(self, name: str) -> str:
        return self.values.get(name, "")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


MAX_IDENTIFIERS = 50  # what the report body allows


def identifier_rows(form: Mapping[str, str]) -> int:
    """Rows to read and show: one past the last used, never beyond the body's limit (a
    posted index is the client's word, not a count to trust)."""
    used = [
        int(m[1])
        for name in form
        if (m := re.match(r"^subject\.identifiers\.(\d{1,2})\.", name))
        and int(m[1]) < MAX_IDENTIFIERS
    ]
    return min(MAX_IDENTIFIERS, max(MIN_IDENTIFIER_ROWS, max(used, default=-1) + 2))


def small_int(text: str) -> int | None:
    """``text`` as a small non-negative integer, or None: ``str.isdigit`` also admits
    digits like "²" that ``int`` refuses, and ``int`` refuses very long numbers."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def document(form: Mapping[str, str], taxonomy: Taxonomy) -> tuple[dict[str, Any], list[str]]:
    """The JSON body the form stands for, and the indicator codes in body order."""
    subject: dict[str, Any] = {
        "names": _lines(form.get("subject.names", "")),
        "country": form.get("subject.country", "").strip().upper(),
    }
    identifiers = []
    for i in range(identifier_rows(form)):
        kind = form.get(f"subject.identifiers.{i}.kind", "")
        value = form.get(f"subject.identifiers.{i}.value", "").strip()
        if value:
            identifiers.append({"kind": kind, "value": value})
    if identifiers:
        subject["identifiers"] = identifiers
    for name in ("addresses", "websites"):
        if lines := _lines(form.get(f"subject.{name}", "")):
            subject[name] = lines
    incident = {}
    for name in INCIDENT:
        value = form.get(f"incident.{name}", "").strip()
        if value:
            incident[name] = value.upper() if name == "destination_country" else value
    codes = [code for code in taxonomy.indicators if form.get(f"indicator.{code}")]
    credibility = form.get("source.credibility", "").strip()
    body: dict[str, Any] = {
        "subject": subject,
        "incident": incident,
        "indicators": [{"code": c, "grade": form[f"indicator.{c}"]} for c in codes],
        "narrative": form.get("narrative", "").strip(),
        "source": {
            "reliability": form.get("source.reliability", ""),
            "credibility": credibility if (number := small_int(credibility)) is None else number,
        },
        "sharing": form.get("sharing", ""),
    }
    confidential = {
        name: value
        for name in CONFIDENTIAL
        if (value := form.get(f"confidential.{name}", "").strip())
    }
    if confidential:
        body["confidential"] = confidential
    if "reason" in form:
        body["reason"] = form["reason"].strip()
    return body, codes


def field_name(path: str, codes: list[str]) -> tuple[str, str]:
    """The form field an API error path points at, and a prefix naming the line if any."""
    if (m := _INDICATOR.match(path)) and int(m[1]) < len(codes):
        return f"indicator.{codes[int(m[1])]}", ""
    if m := _IDENTIFIER.match(path):
        return f"subject.identifiers.{m[1]}.{m[2] or 'value'}", ""
    if m := _LINE.match(path):
        return f"subject.{m[1]}", f"{int(m[2]) + 1}: " if m[2] else ""
    return re.sub(r"\[\d+\]", "", path.removeprefix("$").lstrip(".")) or "form", ""


def decode_document(body: dict[str, Any], cls: type) -> Any:
    """``body`` as ``cls``, checked as the API checks it; or ``InvalidInput`` naming every
    bad field by its API path."""
    return decoding.decode_strict(msgspec.json.encode(body), cls)


def decode(form: Mapping[str, str], taxonomy: Taxonomy, cls: type) -> Any:
    """The report form's body as ``cls`` (a report or an amendment)."""
    return decode_document(document(form, taxonomy)[0], cls)


def with_errors(
    form: Mapping[str, str],
    taxonomy: Taxonomy,
    problems: list[FieldError],
    friendly: Callable[[str, str], str],
) -> ReportForm:
    """The form as typed, with each problem beside its field."""
    _, codes = document(form, taxonomy)
    shown = ReportForm(values=dict(form), identifier_rows=identifier_rows(form))
    for problem in problems:
        name, prefix = field_name(problem.path, codes)
        shown.errors.setdefault(name, []).append(prefix + friendly(name, problem.message))
    return shown


def from_body(body: ReportBody) -> ReportForm:
    """A form filled in from a stored report, for amending it."""
    values = {
        "subject.names": "\n".join(body.subject.names),
        "subject.country": body.subject.country,
        "subject.addresses": "\n".join(body.subject.addresses),
        "subject.websites": "\n".join(body.subject.websites),
        "narrative": body.narrative,
        "source.reliability": body.source.reliability,
        "source.credibility": str(body.source.credibility),
        "sharing": body.sharing,
    }
    for i, identifier in enumerate(body.subject.identifiers):
        values[f"subject.identifiers.{i}.kind"] = identifier.kind
        values[f"subject.identifiers.{i}.value"] = identifier.value
    for name in INCIDENT:
        value = getattr(body.incident, name)
        if value is not None:
            values[f"incident.{name}"] = str(value)
    for indicator in body.indicators:
        values[f"indicator.{indicator.code}"] = indicator.grade
    if body.confidential is not None:
        for name in CONFIDENTIAL:
            value = getattr(body.confidential, name)
            if value is not None:
                values[f"confidential.{name}"] = value
    rows = max(MIN_IDENTIFIER_ROWS, len(body.subject.identifiers) + 2)
    return ReportForm(values=values, identifier_rows=rows)
