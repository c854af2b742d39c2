"""Organisations, API keys and the schemas/ directory."""

from __future__ import annotations

import sys
from pathlib import Path
from uuid import UUID

import click

from watchlist.cli.base import cannot_write, data_dir_option, emit, main, session
from watchlist.domain.organisation import ROLES


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
    with session(data_dir) as runtime:
        organisation_id = runtime.app.register_organisation(name, country and country.upper())
    emit(
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
    with session(data_dir) as runtime:
        issued = runtime.app.issue_key(organisation_id, role)  # type: ignore[arg-type]
    emit(
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
    with session(data_dir) as runtime:
        organisation_id = runtime.app.revoke_key(key_id, reason)
    emit(
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
    try:
        written = schema_export.export(directory)
    except OSError as exc:
        raise cannot_write(exc) from None
    click.echo(f"wrote {len(written)} schemas to {directory}")
