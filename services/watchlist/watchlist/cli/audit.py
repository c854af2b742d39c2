"""`watchlist audit`: export, verify and replay the event log."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from watchlist.cli.base import data_dir_option, main, session, written


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

    with (
        session(ctx.obj["data_dir"]) as runtime,
        psycopg.connect(runtime.database.url) as conn,
        written(out) as file,
    ):
        head = chained_head(conn)
        with click.progressbar(
            length=head, label="exporting", show_eta=True, show_pos=True, file=sys.stderr
        ) as bar:
            for line in export_lines(conn):
                file.write(line + "\n")
                if line.startswith('{"type": "event"'):
                    bar.update(1)
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

    try:
        key = load_public_key(public_key) if public_key else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--public-key") from None
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

        with (
            session(ctx.obj["data_dir"]) as runtime,
            psycopg.connect(runtime.database.url) as conn,
        ):
            verdict = verify_database(conn, key)
    click.echo(str(verdict))
    sys.exit(0 if verdict.ok else 1)


@audit.command("replay")
@click.pass_context
def audit_replay(ctx: click.Context) -> None:
    """Rebuild the read models from the log in a scratch schema and compare them with the live
    ones, row for row."""
    from projector.audit import replay_and_compare

    with session(ctx.obj["data_dir"]) as runtime:
        compared = replay_and_compare(runtime.database, runtime.app.taxonomy)
    counts = ", ".join(f"{n} {t}" for t, n in sorted(compared.rows.items()))
    if compared.identical:
        click.echo(f"identical at position {compared.position}: {counts}")
        return
    for difference in compared.differences:
        click.echo(difference)
    click.echo(f"{len(compared.differences)} difference(s) at position {compared.position}")
    sys.exit(1)
