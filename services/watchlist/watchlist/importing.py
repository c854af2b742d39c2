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

import json
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from watchlist.domain.errors import DomainError, FieldError, InvalidInput
from watchlist.import_rows import (
    CSV_COLUMNS,
    CountingLines,
    Format,
    ImportRefused,
    Row,
    detect_format,
    read_csv,
    read_ndjson,
)
from watchlist.reports import ReportCommands, Submission, body_digest
from watchlist.views import Principal, Recorded

__all__ = ["CSV_COLUMNS", "ImportRefused", "Summary", "import_file"]


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
        lines = CountingLines(raw)
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
