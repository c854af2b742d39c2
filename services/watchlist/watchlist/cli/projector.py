"""`watchlist projector`: run it, rebuild the read models, ask how far behind it is."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import click

from watchlist.cli.base import data_dir_option, emit, main, session
from watchlist.cli.server import projector_runner


@main.group(invoke_without_command=True)
@data_dir_option
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Most events per transaction",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(0.01, 60),
    default=1.0,
    show_default=True,
    help="Seconds between polls when no notification arrives",
)
@click.option(
    "--slow-batch-ms",
    type=click.IntRange(1, None),
    default=1000,
    show_default=True,
    help="Log each batch that takes longer than this, with where its time went",
)
@click.pass_context
def projector(
    ctx: click.Context,
    data_dir: Path | None,
    batch_size: int,
    poll_interval: float,
    slow_batch_ms: int,
) -> None:
    """Run the projector: follow the log and build the read models (until Ctrl-C)."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    if ctx.invoked_subcommand is not None:
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with session(data_dir) as runtime:
        runner = projector_runner(
            runtime,
            batch_size=batch_size,
            poll_interval=poll_interval,
            slow_batch_seconds=slow_batch_ms / 1000,
        )
        click.echo(f"projector following the log (batches of up to {batch_size})")
        runner.run(stop)
    click.echo("projector stopped")


@projector.command("rebuild")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1_000_000),
    default=100_000,
    show_default=True,
    help="Events read from the log at a time",
)
@click.pass_context
def projector_rebuild(ctx: click.Context, batch_size: int) -> None:
    """Build fresh read models beside the live ones, then swap them in at once."""
    from projector.rebuild import rebuild

    with session(ctx.obj["data_dir"]) as runtime:
        started = time.monotonic()
        done = rebuild(runtime.database, runtime.app.taxonomy, batch_size=batch_size)
        seconds = time.monotonic() - started
    click.echo(
        f"rebuilt generation {done.generation} from {done.events} events up to position "
        f"{done.position} in {seconds:.1f} s"
        + (f"; replaced generation {done.replaced}" if done.replaced else "")
    )


@projector.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
@click.pass_context
def projector_status(ctx: click.Context, as_json: bool) -> None:
    """Head of the log, the tracked position and the lag."""
    import psycopg

    from projector.rebuild import status

    with session(ctx.obj["data_dir"]) as runtime, psycopg.connect(runtime.database.url) as conn:
        found = status(conn)
    value = {
        "head": found.head,
        "position": found.position,
        "lag": found.lag,
        "generation": found.generation,
        "running": found.running,
    }
    emit(as_json, value, "\n".join(f"{k}: {v}" for k, v in value.items()))
