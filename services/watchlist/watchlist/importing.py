"""Bulk import of an organisation's earlier records: NDJSON or CSV, judged as the API judges.

Each row becomes a report body, decoded and checked exactly as a request body
is. Good rows are submitted in large batches, one transaction each (the same
``submit_reports`` the API's group commit uses). A bad row goes to the reject
file with its line number and reason, and takes nothing from its neighbours.

A row's Idempotency-Key is made from its content (the hash of its report body)
and how many identical rows came before it in the file, so importing the same
file again, renamed or re-exported, records nothing twice; a file with rows
added at the end records only the new ones.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from watchlist import decoding
from watchlist.domain.contract import ReportBody
from watchlist.domain.errors import DomainError, FieldError, InvalidInput, MalformedJSON
from watchlist.reports import ReportCommands, Submission, body_digest
from watchlist.views import Principal, Recorded

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


@dataclass
class Summary:
    imported: int = 0
    rejected: int = 0
    skipped: int = 0
    rows: int = 0
    seconds: float = 0.0
    batches: int = 0

    def as_dict(self) -> dict[str, Any]:
        rate = self.rows / self.seconds if self.seconds else 0.0
        return {
            "rows": self.rows,
            "imported": self.imported,
            "rejected": self.rejected,
            "skipped_already_imported": self.skipped,
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(rate, 1),
        }


def detect_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix in {".ndjson", ".jsonl"}:
        return "ndjson"
    if suffix == ".csv":
        return "csv"
    raise ImportRefused(f"cannot tell the format of {path.name}: name it .ndjson or .csv")


class _CountingLines:
    """The file's lines as text, counting the bytes read (for progress)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.offset = raw, 0

    def __iter__(self) -> Iterator[str]:
        for line in self.raw:
            self.offset += len(line)
            yield line.decode("utf-8", errors="replace")


def read_ndjson(lines: _CountingLines) -> Iterator[Row]:
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


def read_csv(lines: _CountingLines) -> Iterator[Row]:
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
    for cells in reader:
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


def content_key(digest: bytes) -> str:
    """What identifies a row's content; its Idempotency-Key adds the occurrence in the file."""
    return "import:" + digest.hex()[:48]


Progress = Callable[[int, int, Summary], None]


def import_file(
    app: ReportCommands,
    principal: Principal,
    path: Path,
    rejects: BinaryIO,
    *,
    file_format: Format | None = None,
    batch_size: int = 2000,
    workers: int = 2,
    progress: Progress | None = None,
) -> Summary:
    """Import ``path`` for ``principal``'s organisation; write rejects as NDJSON lines.

    With two workers, two batches are in flight: while the database inserts one, Python
    builds the next. Outcomes are taken in file order.
    """
    file_format = file_format or detect_format(path)
    total = path.stat().st_size
    summary = Summary()
    started = time.perf_counter()
    seen: Counter[str] = Counter()
    in_flight: deque[tuple[list[Row], Future[list[Recorded | DomainError]]]] = deque()

    def settle(keep: int) -> None:
        while len(in_flight) > keep:
            batch, outcomes = in_flight.popleft()
            _settle(batch, outcomes.result(), rejects, summary)

    with path.open("rb") as raw, ThreadPoolExecutor(workers, thread_name_prefix="import") as pool:
        lines = _CountingLines(raw)
        rows = read_ndjson(lines) if file_format == "ndjson" else read_csv(lines)
        for batch in _batches(rows, batch_size, summary):
            submissions = []
            for row in batch:
                if row.body is None:
                    continue
                digest = body_digest(row.body)
                content = content_key(digest)
                key = f"{content}:{seen[content]}"
                submissions.append(Submission(principal, row.body, key, digest))
                seen[content] += 1
            in_flight.append((batch, pool.submit(app.submit_reports, submissions)))
            settle(keep=workers - 1)
            if progress:
                progress(lines.offset, total, summary)
        settle(keep=0)
    summary.seconds = time.perf_counter() - started
    if progress:
        progress(total, total, summary)
    return summary


def _batches(rows: Iterator[Row], size: int, summary: Summary) -> Iterator[list[Row]]:
    """Rows in batches of ``size`` good ones; bad rows ride along to keep file order."""
    batch: list[Row] = []
    good = 0
    for row in rows:
        summary.rows += 1
        batch.append(row)
        good += row.body is not None
        if good >= size:
            yield batch
            batch, good = [], 0
    if batch:
        yield batch


def _settle(
    batch: Sequence[Row],
    outcomes: Sequence[Recorded | DomainError],
    rejects: BinaryIO,
    summary: Summary,
) -> None:
    """Account for each row of a batch, in file order."""
    summary.batches += 1
    answers = iter(outcomes)
    for row in batch:
        outcome = next(answers) if row.body is not None else None
        if isinstance(outcome, InvalidInput):
            row.refuse(outcome.errors)
        elif isinstance(outcome, DomainError):
            row.errors = [FieldError("$", str(outcome))]
        elif outcome is not None:
            if outcome.replayed:
                summary.skipped += 1
            else:
                summary.imported += 1
            continue
        _reject(rejects, row, summary)


def _reject(rejects: BinaryIO, row: Row, summary: Summary) -> None:
    summary.rejected += 1
    reason = "; ".join(f"{e.path}: {e.message}" for e in row.errors)
    record = {
        "line": row.line,
        "reason": reason,
        "errors": [{"path": e.path, "message": e.message} for e in row.errors],
        "row": row.text,
    }
    rejects.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
