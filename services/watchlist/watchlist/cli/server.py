"""`watchlist up` and `watchlist serve`: the API, and in `up` everything else too."""

from __future__ import annotations

import base64
import gc
import os
import signal
import threading
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar

from projector.chain import Chain
from projector.runner import ProjectorRunner, run_in_thread
from watchlist import __version__
from watchlist.cli.base import F, data_dir_option, main, runtime_for
from watchlist.database import master_key
from watchlist.runtime import Runtime, start
from watchlist.settings import Settings, SettingsError

DEMO_MARKER = "demo-created"


def projector_runner(runtime: Runtime, **options: Any) -> ProjectorRunner:
    try:
        seed = runtime.signing_key()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    settings = runtime.settings
    chain = Chain(
        Ed25519PrivateKey.from_private_bytes(seed),
        every=settings.checkpoint_every,
        seconds=settings.checkpoint_seconds,
    )
    return ProjectorRunner(runtime.database, runtime.app.taxonomy, chain, **options)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(0)


def server_options(fn: F) -> F:
    fn = click.option("--port", type=int, default=None, help="Port (default 8000)")(fn)
    fn = click.option("--host", default=None, help="Address to listen on (default 127.0.0.1)")(fn)
    return data_dir_option(fn)


@main.command()
@server_options
@click.option("--no-demo", is_flag=True, help="Do not create the demo organisation")
def up(data_dir: Path | None, host: str | None, port: int | None, no_demo: bool) -> None:
    """Start everything: the database (embedded unless WATCHLIST_DATABASE_URL is set) and the API.

    On a new data directory it also creates a demo organisation and prints its admin key.
    """
    _serve(data_dir, host, port, demo=not no_demo, with_projector=True)


@main.command()
@server_options
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="API processes sharing the port (one per core)",
)
def serve(data_dir: Path | None, host: str | None, port: int | None, workers: int) -> None:
    """Serve the API alone (run `watchlist projector` beside it)."""
    _serve(data_dir, host, port, demo=False, with_projector=False, workers=workers)


def worker_app() -> Litestar:
    """One API process of `watchlist serve --workers N`, as uvicorn starts it.

    The parent has put the database's URL and the master key in the environment,
    so each worker opens its own pool, writers and watch on the one database.
    """
    from watchlist.api.app import create_app

    runtime = start(Settings.from_env())
    app = create_app(runtime.app, runtime.settings)
    app.on_shutdown.append(runtime.close)  # after the app's own writers have finished
    settle_heap()
    return app


# Objects a collection of the youngest generation waits for (Python's default is 700).
YOUNG_GENERATION = 10_000


def settle_heap() -> None:
    """Keep the cyclic garbage collector off what start-up built, for the process's life,
    and off the requests in flight.

    Everything made so far (the app, its routes, caches, the taxonomy) lives as long as
    the process. Frozen, the collector's full collections never walk it again, and
    stop being the slowest answers: with 32 clients submitting, p99 went from 62-70 ms
    to 24 ms (and to the same with the collector off).

    A request's objects are freed by reference counting when it ends, but 32 requests in
    flight hold thousands at once: at 700 the youngest generation was collected every
    eleven or so reports submitted, each time walking those live objects for nothing,
    40-70 us per report in the collector. At 10,000 it is collected only once garbage
    that the collector alone can free has piled up: not once in the ingest bench.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, older, oldest)


def _for_workers(runtime: Runtime) -> None:
    """What each worker needs to reach the database this process opened (maybe embedded)."""
    os.environ["WATCHLIST_DATABASE_URL"] = runtime.database.url
    os.environ["WATCHLIST_MASTER_KEY"] = base64.b64encode(
        master_key(runtime.settings, runtime.database)
    ).decode()


def _serve(
    data_dir: Path | None,
    host: str | None,
    port: int | None,
    *,
    demo: bool,
    with_projector: bool,
    workers: int = 1,
) -> None:
    import uvicorn

    from watchlist.api.app import create_app

    try:
        settings = Settings.from_env(data_dir=data_dir, host=host, port=port)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    runtime = runtime_for(settings.data_dir)
    stop_projector: threading.Event | None = None
    projector_thread: threading.Thread | None = None
    try:
        where = (
            f"embedded PostgreSQL in {runtime.database.data_dir}"
            if runtime.database.embedded
            else "external PostgreSQL (WATCHLIST_DATABASE_URL)"
        )
        url = f"http://{settings.host}:{settings.port}"
        click.echo(
            f"Watchlist {__version__}\n  database: {where}\n  API:      {url}"
            f"\n  OpenAPI:  {url}/schema/openapi.json\n  console:  {url}/console/"
            f"\n  public check: {url}/check"
        )
        if demo:
            _create_demo(runtime, settings.data_dir)
        if with_projector:
            projector_thread, stop_projector = run_in_thread(projector_runner(runtime))
            click.echo("  projector: running")
        options: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "log_level": "warning",
            "access_log": False,
            "lifespan": "on",
        }
        if workers > 1:
            _for_workers(runtime)
            click.echo(f"  workers:  {workers}\nPress Ctrl-C to stop.")
            # The supervisor hands SIGINT and SIGTERM on to the workers and waits for them.
            uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, **options)
            return
        click.echo("Press Ctrl-C to stop.")
        config = uvicorn.Config(create_app(runtime.app, settings), **options)
        settle_heap()
        # uvicorn re-raises the signal it caught once it has shut down; make SIGTERM end
        # this process the way Ctrl-C does, so the clean-up below and the embedded
        # server's stop still run.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        pass
    finally:
        if stop_projector is not None and projector_thread is not None:
            stop_projector.set()
            projector_thread.join(10)  # before the embedded database stops under it
        runtime.close()
        click.echo("Watchlist stopped.")


def _create_demo(runtime: Runtime, data_dir: Path) -> None:
    """A demo organisation and admin key, once per data directory."""
    marker = data_dir / DEMO_MARKER
    if marker.exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    marker.touch()
    organisation_id = runtime.app.register_organisation("Demo hotline", "KZ")
    issued = runtime.app.issue_key(organisation_id, "admin")
    click.echo(
        f"  demo organisation: {organisation_id}\n"
        f"  demo admin key (shown once, keep it): {issued.key}"
    )
