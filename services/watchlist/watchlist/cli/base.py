"""The ``watchlist`` command: the group and what its subcommands share."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from watchlist import __version__
from watchlist.database import DatabaseUnreachable
from watchlist.domain.errors import DomainError
from watchlist.runtime import Runtime, start
from watchlist.settings import Settings, SettingsError

F = TypeVar("F", bound=Callable[..., Any])


def data_dir_option(fn: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="WATCHLIST_DATA_DIR",
        default=None,
        help="Data directory (embedded database, keys). Default ./.watchlist",
    )(fn)


def runtime_for(data_dir: Path | None) -> Runtime:
    try:
        return start(Settings.from_env(data_dir=data_dir))
    except (SettingsError, DatabaseUnreachable) as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def session(data_dir: Path | None) -> Iterator[Runtime]:
    """The runtime for one command: closed after it, its domain errors said plainly."""
    runtime = runtime_for(data_dir)
    try:
        yield runtime
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        runtime.close()


def cannot_write(exc: OSError) -> click.ClickException:
    """What stops a command whose output cannot be written: the path, and why."""
    return click.ClickException(f"cannot write {exc.filename}: {exc.strerror}")


@contextmanager
def written(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """``path`` opened for writing; one that cannot be written stops the command, named."""
    try:
        file = path.open(mode)
    except OSError as exc:
        raise cannot_write(exc) from None
    with file:
        yield file


def emit(as_json: bool, value: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(value, ensure_ascii=False) if as_json else text)


@click.group()
@click.version_option(__version__, prog_name="watchlist")
def main() -> None:
    """Watchlist: a shared watchlist of suspicious labour recruiters."""
    # Timed: a slow batch or a lost database is read beside the lag it caused.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
