"""The ``watchlist`` command."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from projector.chain import Chain
from projector.runner import ProjectorRunner, run_in_thread
from watchlist import __version__
from watchlist.domain.errors import DomainError
from watchlist.domain.organisation import ROLES
from watchlist.runtime import Runtime, start
from watchlist.settings import Settings, SettingsError

F = TypeVar("F", bound=Callable[..., Any])
DEMO_MARKER = "demo-created"


def data_dir_option(fn: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="WATCHLIST_DATA_DIR",
        default=None,
        help="Data directory (embedded database, keys). Default ./.watchlist",
    )(fn)


def _runtime(data_dir: Path | None) -> Runtime:
    try:
        return start(Settings.from_env(data_dir=data_dir))
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _projector_runner(runtime: Runtime, **options: Any) -> ProjectorRunner:
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


def _emit(as_json: bool, value: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(value, ensure_ascii=False) if as_json else text)


@click.group()
@click.version_option(__version__, prog_name="watchlist")
def main() -> None:
    """Watchlist: a shared watchlist of suspicious labour recruiters."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


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
def serve(data_dir: Path | None, host: str | None, port: int | None) -> None:
    """Serve the API alone (run `watchlist projector` beside it)."""
    _serve(data_dir, host, port, demo=False, with_projector=False)


def _serve(
    data_dir: Path | None,
    host: str | None,
    port: int | None,
    *,
    demo: bool,
    with_projector: bool,
) -> None:
    import uvicorn

    from watchlist.api.app import create_app

    try:
        settings = Settings.from_env(data_dir=data_dir, host=host, port=port)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    runtime = _runtime(settings.data_dir)
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
            f"\n  OpenAPI:  {url}/schema/openapi.json"
        )
        if demo:
            _create_demo(runtime, settings.data_dir)
        if with_projector:
            projector_thread, stop_projector = run_in_thread(_projector_runner(runtime))
            click.echo("  projector: running")
        click.echo("Press Ctrl-C to stop.")
        config = uvicorn.Config(
            create_app(runtime.app, settings),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
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


@main.group()
def org() -> None:
    """Partner organisations."""


@org.command("add")
@click.argument("name")
@click.option("--country", default=None, help="ISO 3166-1 alpha-2 code, e.g. KZ")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
@data_dir_option
def org_add(name: str, country: str | None, as_json: bool, data_dir: Path | None) -> None:
    """Register an organisation."""
    from watchlist.domain.countries import COUNTRY_CODES

    if country is not None and country.upper() not in COUNTRY_CODES:
        raise click.BadParameter(
            f"{country!r} is not an ISO 3166-1 alpha-2 code", param_hint="--country"
        )
    runtime = _runtime(data_dir)
    try:
        organisation_id = runtime.app.register_organisation(name, country and country.upper())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        runtime.close()
    _emit(
        as_json,
        {"id": str(organisation_id), "name": name.strip()},
        f"organisation {organisation_id} {name.strip()}",
    )


@main.group()
def key() -> None:
    """API keys."""


@key.command("issue")
@click.argument("organisation_id", type=click.UUID)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
@data_dir_option
def key_issue(organisation_id: UUID, role: str, as_json: bool, data_dir: Path | None) -> None:
    """Issue an API key. The key is shown once; only its hash is kept."""
    runtime = _runtime(data_dir)
    try:
        issued = runtime.app.issue_key(organisation_id, role)  # type: ignore[arg-type]
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        runtime.close()
    _emit(
        as_json,
        {
            "key": issued.key,
            "key_id": str(issued.key_id),
            "role": issued.role,
            "organisation_id": str(issued.organisation_id),
        },
        f"key {issued.key_id} ({issued.role}), shown once:\n{issued.key}",
    )


@key.command("revoke")
@click.argument("key_id", type=click.UUID)
@click.option("--reason", default="", help="Why the key is revoked")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
@data_dir_option
def key_revoke(key_id: UUID, reason: str, as_json: bool, data_dir: Path | None) -> None:
    """Revoke an API key at once."""
    runtime = _runtime(data_dir)
    try:
        organisation_id = runtime.app.revoke_key(key_id, reason)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        runtime.close()
    _emit(
        as_json,
        {"key_id": str(key_id), "organisation_id": str(organisation_id), "revoked": True},
        f"key {key_id} revoked",
    )


@main.group()
def schemas() -> None:
    """JSON Schemas of events and API bodies."""


@schemas.command("export")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Target directory (default: the checkout's schemas/)",
)
@click.option("--check", is_flag=True, help="Only report differences; exit 1 if any")
def schemas_export(directory: Path | None, check: bool) -> None:
    """Write schemas/ from the code (or check that it is current)."""
    from watchlist import schema_export
    from watchlist.runtime import schemas_dir

    directory = directory or schemas_dir()
    if check:
        stale = schema_export.differences(directory)
        for name in stale:
            click.echo(f"differs: {name}")
        sys.exit(1 if stale else 0)
    written = schema_export.export(directory)
    click.echo(f"wrote {len(written)} schemas to {directory}")


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
@click.pass_context
def projector(
    ctx: click.Context, data_dir: Path | None, batch_size: int, poll_interval: float
) -> None:
    """Run the projector: follow the log and build the read models (until Ctrl-C)."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    if ctx.invoked_subcommand is not None:
        return
    runtime = _runtime(data_dir)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    runner = _projector_runner(runtime, batch_size=batch_size, poll_interval=poll_interval)
    click.echo(f"projector following the log (batches of up to {batch_size})")
    try:
        runner.run(stop)
    finally:
        runtime.close()
        click.echo("projector stopped")


@projector.command("rebuild")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.pass_context
def projector_rebuild(ctx: click.Context, batch_size: int) -> None:
    """Build fresh read models beside the live ones, then swap them in at once."""
    from projector.rebuild import rebuild

    runtime = _runtime(ctx.obj["data_dir"])
    try:
        started = time.monotonic()
        done = rebuild(runtime.database, runtime.app.taxonomy, batch_size=batch_size)
        seconds = time.monotonic() - started
    finally:
        runtime.close()
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

    runtime = _runtime(ctx.obj["data_dir"])
    try:
        with psycopg.connect(runtime.database.url) as conn:
            found = status(conn)
    finally:
        runtime.close()
    value = {
        "head": found.head,
        "position": found.position,
        "lag": found.lag,
        "generation": found.generation,
        "running": found.running,
    }
    _emit(as_json, value, "\n".join(f"{k}: {v}" for k, v in value.items()))


@main.group()
@data_dir_option
@click.pass_context
def audit(ctx: click.Context, data_dir: Path | None) -> None:
    """Export, verify and replay the event log."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir


@audit.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The NDJSON file to write",
)
@click.pass_context
def audit_export(ctx: click.Context, out: Path) -> None:
    """Write the whole chained log, with its signed checkpoints, to a file."""
    import psycopg

    from projector.audit import chained_head, export_lines

    runtime = _runtime(ctx.obj["data_dir"])
    try:
        with psycopg.connect(runtime.database.url) as conn, out.open("w") as file:
            head = chained_head(conn)
            with click.progressbar(
                length=head, label="exporting", show_eta=True, show_pos=True, file=sys.stderr
            ) as bar:
                for line in export_lines(conn):
                    file.write(line + "\n")
                    if line.startswith('{"type": "event"'):
                        bar.update(1)
    finally:
        runtime.close()
    click.echo(f"exported {head} events to {out}")


@audit.command("verify")
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Verify an export offline instead of the database",
)
@click.option(
    "--public-key",
    default=None,
    help="The signing public key you trust (base64); required with --file",
)
@click.pass_context
def audit_verify(ctx: click.Context, file: Path | None, public_key: str | None) -> None:
    """Recompute the hash chain, check every checkpoint; name the first failure."""
    from watchlist.audit.verify import load_public_key, verify_lines

    key = load_public_key(public_key) if public_key else None
    if file is not None:
        if key is None:
            raise click.BadParameter(
                "an offline check needs the key you trust", param_hint="--public-key"
            )
        with file.open("rb") as lines:
            verdict = verify_lines(lines, key)
    else:
        import psycopg

        from projector.audit import verify_database

        runtime = _runtime(ctx.obj["data_dir"])
        try:
            with psycopg.connect(runtime.database.url) as conn:
                verdict = verify_database(conn, key)
        finally:
            runtime.close()
    click.echo(str(verdict))
    sys.exit(0 if verdict.ok else 1)


@audit.command("replay")
@click.pass_context
def audit_replay(ctx: click.Context) -> None:
    """Rebuild the read models from the log in a scratch schema and compare them with the live
    ones, row for row."""
    from projector.audit import replay_and_compare

    runtime = _runtime(ctx.obj["data_dir"])
    try:
        compared = replay_and_compare(runtime.database, runtime.app.taxonomy)
    finally:
        runtime.close()
    counts = ", ".join(f"{n} {t}" for t, n in sorted(compared.rows.items()))
    if compared.identical:
        click.echo(f"identical at position {compared.position}: {counts}")
        return
    for difference in compared.differences:
        click.echo(difference)
    click.echo(f"{len(compared.differences)} difference(s) at position {compared.position}")
    sys.exit(1)
