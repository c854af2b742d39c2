"""Bulk import of an organisation's earlier records: NDJSON or CSV, judged as the API judges.

Each row becomes a report body, decoded and checked exactly as a request body
is. Good rows are submitted in large batches, one transaction each, through the
same ``submit_reports`` as the API's group commit (in its two halves: prepared
here, recorded by a writer thread). A bad row goes to the reject file with its
line number and reason, and takes nothing from its neighbours.

A row's Idempotency-Key is made from its content (the hash of its report body)
and how many identical rows came before it in the file, so importing the same
file again, renamed or re-exported, records nothing twice; a file with rows
added at the end records only the new ones.
"""

from __future__ import annotations

import gc
import json
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from watchlist.domain.errors import DomainError, FieldError, InvalidInput
from watchlist.import_rows import (
    CountingLines,
    Format,
    ImportRefused,
    Row,
    detect_format,
    read_csv,
    read_ndjson,
)
from watchlist.submissions import PreparedReports, Submission, SubmissionCommands, body_digest
from watchlist.views import Principal, Recorded

__all__ = ["ImportRefused", "ImportStopped", "Summary", "import_file"]

# Rows between two full passes of the cyclic garbage collector (see ``collector_paced``).
COLLECT_EVERY = 20_000


class ImportStopped(RuntimeError):
    """A batch could not be recorded (the database went away, say): the import stopped
    there, and no later batch was recorded."""


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
    app: SubmissionCommands,
    principal: Principal,
    path: Path,
    rejects: IO[bytes],
    *,
    file_format: Format | None = None,
    batch_size: int = 2000,
    progress: Progress | None = None,
) -> Summary:
    """Import ``path`` for ``principal``'s organisation; write rejects as NDJSON lines.

    This thread reads, checks and prepares each batch (its reports built, sealed and
    encoded: ``prepare_reports``) while one writer thread records the batch before it,
    so Python's work overlaps the database's. One writer, one batch after the other: the
    log holds the rows in file order. If a batch fails, or the import is interrupted, no
    later batch is recorded.
    """
    file_format = file_format or detect_format(path)
    total = path.stat().st_size
    summary = Summary()
    started = time.perf_counter()
    seen: Counter[str] = Counter()
    writer = _Writer(app)
    in_flight: deque[tuple[list[Row], Future[list[Recorded | DomainError]]]] = deque()

    def settle(keep: int) -> None:
        while len(in_flight) > keep:
            batch, outcomes = in_flight.popleft()
            try:
                answers = outcomes.result()
            except Exception as exc:  # Ctrl-C is not an Exception: it passes as it is
                raise _stopped(batch, exc) from exc
            _settle(batch, answers, rejects, summary)
            collector.count(len(batch))

    with path.open("rb") as raw, writer, collector_paced() as collector:
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
            try:
                prepared = app.prepare_reports(submissions)
            except Exception as exc:
                settle(keep=0)  # the batch before, if it failed too, is the one to tell
                raise _stopped(batch, exc) from exc
            in_flight.append((batch, writer.submit(prepared)))
            settle(keep=1)
            if progress:
                progress(lines.offset, total, summary)
        settle(keep=0)
    summary.seconds = time.perf_counter() - started
    if progress:
        progress(total, total, summary)
    return summary


def _stopped(batch: list[Row], error: Exception) -> ImportStopped:
    line = batch[0].line
    return ImportStopped(
        f"the batch from line {line} could not be recorded: {error}. The rows before line "
        f"{line} are recorded; importing the same file again records the rest, nothing twice."
    )


class _Writer:
    """One thread that records batches in the order they are given, and stops at the first
    that fails: a later batch never commits after an earlier one was lost."""

    def __init__(self, app: SubmissionCommands) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="import")
        self.failed = False

    def submit(self, prepared: PreparedReports) -> Future[list[Recorded | DomainError]]:
        return self.pool.submit(self._record, prepared)

    def _record(self, prepared: PreparedReports) -> list[Recorded | DomainError]:
        if self.failed:
            raise ImportStopped("an earlier batch failed: this one was not recorded")
        try:
            return self.app.record_reports(prepared)
        except BaseException:
            self.failed = True
            raise

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:  # an error, or Ctrl-C: record nothing more
            self.failed = True
        self.pool.shutdown(wait=True, cancel_futures=kind is not None)


class _Collector:
    def __init__(self, every: int) -> None:
        self.every, self.pending = every, 0

    def count(self, rows: int) -> None:
        self.pending += rows
        if self.pending >= self.every:
            self.pending = 0
            gc.collect()


@contextmanager
def collector_paced(every: int = COLLECT_EVERY) -> Iterator[_Collector]:
    """Cyclic garbage collection once every ``every`` rows, not whenever allocations pile up.

    An import allocates millions of small objects (rows, bodies, events, parameters), and
    the collector's own passes walked the batches in flight over and over: a third of the
    import's CPU time. Almost nothing a batch makes is cyclic, so reference counting frees
    it; what is (an error kept with its traceback) waits for the next full pass, so memory
    stays bounded.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield _Collector(every)
    finally:
        if enabled:
            gc.enable()


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
    rejects: IO[bytes],
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


def _reject(rejects: IO[bytes], row: Row, summary: Summary) -> None:
    summary.rejected += 1
    reason = "; ".join(f"{e.path}: {e.message}" for e in row.errors)
    record = {
        "line": row.line,
        "reason": reason,
        "errors": [{"path": e.path, "message": e.message} for e in row.errors],
        "row": row.text,
    }
    rejects.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
