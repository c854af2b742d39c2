"""`watchlist import FILE --org ORG_ID`: an organisation's earlier records, in bulk."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

import click

from watchlist.cli.base import data_dir_option, emit, main, session, written
from watchlist.importing import ImportRefused, ImportStopped, Summary, import_file


class ProgressLine:
    """Rows, rate and ETA on one line of stderr; a plain line every few seconds off a terminal."""

    def __init__(self) -> None:
        self.terminal = sys.stderr.isatty()
        self.every = 0.25 if self.terminal else 5.0
        self.last = 0.0
        self.started = time.perf_counter()
        self.finished = False

    def __call__(self, done: int, total: int, summary: Summary) -> None:
        now = time.perf_counter()
        finished = done >= total
        if self.finished or (now - self.last < self.every and not finished):
            return
        self.last, self.finished = now, finished
        elapsed = max(now - self.started, 1e-9)
        fraction = done / total if total else 1.0
        eta = elapsed / fraction - elapsed if fraction else 0.0
        width = 24
        bar = "#" * int(width * fraction) + "-" * (width - int(width * fraction))
        line = (
            f"[{bar}] {fraction:4.0%}  {summary.rows:,} rows  "
            f"{summary.rows / elapsed:,.0f} rows/s  ETA {eta:,.0f} s"
        )
        end = "\n" if finished or not self.terminal else ""
        click.echo(("\r" if self.terminal else "") + line, err=True, nl=False)
        click.echo(end, err=True, nl=False)


@contextmanager
def _refusal() -> Iterator[None]:
    try:
        yield
    except ImportRefused as exc:
        raise click.ClickException(f"nothing imported: {exc}") from None
    except ImportStopped as exc:
        raise click.ClickException(f"import stopped: {exc}") from None


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "organisation_id", type=click.UUID, required=True, help="On whose behalf")
@click.option(
    "--key-id",
    type=click.UUID,
    default=None,
    help="The organisation's key the reports are recorded under "
    "(default: its newest active reporter or admin key)",
)
@click.option("--format", "file_format", type=click.Choice(["ndjson", "csv"]), default=None)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where bad rows go, as NDJSON (default: FILE.rejects.ndjson)",
)
@click.option("--batch-size", type=click.IntRange(1, 20_000), default=2000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON")
@click.option("--quiet", is_flag=True, help="No progress line")
@data_dir_option
def import_command(
    file: Path,
    organisation_id: UUID,
    key_id: UUID | None,
    file_format: str | None,
    rejects: Path | None,
    batch_size: int,
    as_json: bool,
    quiet: bool,
    data_dir: Path | None,
) -> None:
    """Import FILE (NDJSON: one report body per line; CSV: see docs/import.md).

    Every row is checked as the API checks a body. Bad rows go to the reject file with
    their line number and reason; the rest are recorded in batches. Importing the same
    file again records nothing twice.
    """
    rejects = rejects or file.with_name(file.name + ".rejects.ndjson")
    with session(data_dir) as runtime:
        principal = runtime.app.importing_principal(organisation_id, key_id)
        with written(rejects, "wb") as reject_file, _refusal():
            summary = import_file(
                runtime.app,
                principal,
                file,
                reject_file,
                file_format=file_format,  # type: ignore[arg-type]
                batch_size=batch_size,
                progress=None if quiet else ProgressLine(),
            )
    if summary.rejected == 0:
        rejects.unlink()
    result = summary.as_dict() | {"rejects": str(rejects) if summary.rejected else None}
    emit(
        as_json,
        result,
        f"imported {summary.imported:,}, rejected {summary.rejected:,}, "
        f"skipped as already imported {summary.skipped:,} "
        f"({summary.rows:,} rows in {summary.seconds:.1f} s, "
        f"{result['rows_per_second']:,.0f} rows/s)"
        + (f"\nrejected rows and their reasons: {rejects}" if summary.rejected else ""),
    )
