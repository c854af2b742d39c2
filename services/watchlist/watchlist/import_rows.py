"""The rows of an import file: NDJSON or CSV, each decoded and checked as the API decodes a body.

A row carries its line number and its text as written, so that a reject names
both; a CSV row also remembers which column each identifier came from, so that
a reject names the column the operator typed rather than a path in the body.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from watchlist import decoding
from watchlist.domain.contract import ReportBody
from watchlist.domain.errors import FieldError, InvalidInput, MalformedJSON

Format = Literal["ndjson", "csv"]
LIST_SEPARATOR = ";"
DEFAULT_GRADE = "reported"

# The CSV columns, each with where it goes in the report body. Documented in
# docs/import.md; a header naming any other column is refused before any row is read.
IDENTIFIER_COLUMNS = {
    "phones": "phone",
    "bins": "bin",
    "licences": "licence",
    "emails": "email",
    "socials": "social",
}
SUBJECT_LISTS = {"names": "names", "addresses": "addresses", "websites": "websites"}
INCIDENT_COLUMNS = {
    "incident_date": "date",
    "incident_region": "region",
    "destination_country": "destination_country",
    "job_offered": "job_offered",
    "channel": "channel",
}
CONFIDENTIAL_COLUMNS = {
    "caller_name": "caller_name",
    "caller_phone": "caller_phone",
    "caller_email": "caller_email",
    "victim_name": "victim_name",
    "confidential_notes": "notes",
}
OTHER_COLUMNS = ("country", "indicators", "reliability", "credibility", "sharing", "narrative")
CSV_COLUMNS = (
    *SUBJECT_LISTS,
    *IDENTIFIER_COLUMNS,
    *INCIDENT_COLUMNS,
    *CONFIDENTIAL_COLUMNS,
    *OTHER_COLUMNS,
)
REQUIRED_COLUMNS = ("names", "country", "reliability", "credibility", "sharing")


class ImportRefused(ValueError):
    """The file as a whole cannot be imported (an unknown column, say): nothing was read."""


@dataclass
class Row:
    """One row of the file: where it starts, its text, and its body or what is wrong."""

    line: int
    text: str
    body: ReportBody | None = None
    errors: list[FieldError] = field(default_factory=list)
    sources: list[str] | None = None  # a CSV row: the column of each identifier

    def refuse(self, errors: list[FieldError]) -> None:
        """Record what is wrong, named as the file names it: a CSV row by its columns."""
        if self.sources is not None:
            errors = [FieldError(_column_of(e.path, self.sources), e.message) for e in errors]
        self.errors = errors


def detect_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix in {".ndjson", ".jsonl"}:
        return "ndjson"
    if suffix == ".csv":
        return "csv"
    raise ImportRefused(f"cannot tell the format of {path.name}: name it .ndjson or .csv")


class CountingLines:
    """The file's lines as text, counting the bytes read (for progress)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.offset = raw, 0

    def __iter__(self) -> Iterator[str]:
        for line in self.raw:
            self.offset += len(line)
            yield line.decode("utf-8", errors="replace")


def read_ndjson(lines: CountingLines) -> Iterator[Row]:
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        row = Row(number, text.rstrip("\r\n"))
        try:
            row.body = decoding.decode_strict(row.text, ReportBody)
        except MalformedJSON as exc:
            row.errors = [FieldError("$", f"not JSON: {exc}")]
        except InvalidInput as exc:
            row.errors = exc.errors
        yield row


def read_csv(lines: CountingLines) -> Iterator[Row]:
    reader = csv.reader(iter(lines))
    header = next(reader, None)
    if header is None:
        return
    columns = [name.strip().lower() for name in header]
    unknown = [name for name in columns if name not in CSV_COLUMNS]
    if unknown:
        raise ImportRefused(
            f"unknown column(s) {', '.join(unknown)}; the columns are: {', '.join(CSV_COLUMNS)}"
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ImportRefused(f"required column(s) missing: {', '.join(missing)}")
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell over the csv module's limit, say: this row alone
            yield Row(start, "", errors=[FieldError("$", f"not readable as CSV: {exc}")])
        else:
            if any(cell.strip() for cell in cells):
                yield _csv_row(start, columns, cells)
        start = reader.line_num + 1


def _csv_row(line: int, columns: list[str], cells: list[str]) -> Row:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    row = Row(line, buffer.getvalue())
    if len(cells) != len(columns):
        row.errors = [FieldError("$", f"{len(cells)} cells for {len(columns)} columns")]
        return row
    document, row.sources = csv_document(dict(zip(columns, cells, strict=True)))
    try:
        row.body = decoding.convert_strict(document, ReportBody)
    except InvalidInput as exc:
        row.refuse(exc.errors)
    return row


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]


def csv_document(cells: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """A CSV row as a report body document, and the column of each identifier in it."""
    values = {name: cell.strip() for name, cell in cells.items() if cell.strip()}
    subject, sources = _subject(values)
    credibility: Any = values.get("credibility")
    if credibility is not None and credibility.isdigit():
        credibility = int(credibility)
    source = {"reliability": values.get("reliability"), "credibility": credibility}
    incident = {
        name: values[column] for column, name in INCIDENT_COLUMNS.items() if column in values
    }
    if "destination_country" in incident:
        incident["destination_country"] = incident["destination_country"].upper()
    indicators = []
    for item in _split(values.get("indicators", "")):
        code, _, grade = item.partition(":")
        indicators.append({"code": code.strip(), "grade": grade.strip() or DEFAULT_GRADE})
    document: dict[str, Any] = {
        "subject": subject,
        "source": {k: v for k, v in source.items() if v is not None},
        "sharing": values.get("sharing", "").lower() or None,
        "incident": incident,
        "indicators": indicators,
        "narrative": values.get("narrative"),
        "confidential": {
            name: values[column]
            for column, name in CONFIDENTIAL_COLUMNS.items()
            if column in values
        },
    }
    return {k: v for k, v in document.items() if v}, sources


def _subject(values: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    subject: dict[str, Any] = {"names": []}
    for column, name in SUBJECT_LISTS.items():
        if column in values:
            subject[name] = _split(values[column])
    if "country" in values:
        subject["country"] = values["country"].upper()
    identifiers, sources = [], []
    for column, kind in IDENTIFIER_COLUMNS.items():
        for value in _split(values.get(column, "")):
            identifiers.append({"kind": kind, "value": value})
            sources.append(column)
    if identifiers:
        subject["identifiers"] = identifiers
    return subject, sources


_COLUMN_OF_PATH = [
    (re.compile(r"^\$\.subject\.names"), "names"),
    (re.compile(r"^\$\.subject\.country"), "country"),
    (re.compile(r"^\$\.subject\.addresses"), "addresses"),
    (re.compile(r"^\$\.subject\.websites"), "websites"),
    (re.compile(r"^\$\.source\.(reliability|credibility)"), r"\1"),
    (re.compile(r"^\$\.sharing"), "sharing"),
    (re.compile(r"^\$\.narrative"), "narrative"),
    (re.compile(r"^\$\.indicators"), "indicators"),
    *[(re.compile(rf"^\$\.incident\.{n}\b"), c) for c, n in INCIDENT_COLUMNS.items()],
    *[(re.compile(rf"^\$\.confidential\.{n}\b"), c) for c, n in CONFIDENTIAL_COLUMNS.items()],
]
_IDENTIFIER_PATH = re.compile(r"^\$\.subject\.identifiers\[(\d+)\]")


def _column_of(path: str, sources: list[str]) -> str:
    """The CSV column a body path came from, so a reject names what the user typed."""
    if found := _IDENTIFIER_PATH.match(path):
        index = int(found[1])
        return sources[index] if index < len(sources) else path
    for pattern, column in _COLUMN_OF_PATH:
        if pattern.match(path):
            return pattern.sub(column, path).split(".")[0].split("[")[0]
    return path
