"""Fixtures: one real PostgreSQL per test session, and helpers to act as organisations.

``WATCHLIST_TEST_DATABASE_URL`` points the suite at an external server, where
it works in a database of its own and drops it at the end; otherwise an
embedded server runs in a temporary directory.
"""

from __future__ import annotations

import copy
import itertools
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.testing import TestClient
from psycopg import sql

from projector.chain import Chain
from projector.runner import ProjectorRunner, run_in_thread
from watchlist.api.app import create_app
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.application import Watchlist
from watchlist.database import (
    Database,
    create_database,
    scratch_database,
    start_embedded,
    with_dbname,
)
from watchlist.domain.organisation import Role
from watchlist.runtime import load_taxonomy
from watchlist.settings import Settings
from watchlist.views import Principal


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    external = os.environ.get("WATCHLIST_TEST_DATABASE_URL")
    if not external:
        yield start_embedded(tmp_path_factory.mktemp("watchlist-data"))
        return
    name = f"watchlist_test_{os.getpid()}_{secrets.token_hex(3)}"
    create_database(external, name)
    try:
        yield Database(url=with_dbname(external, name), embedded=False)
    finally:
        with psycopg.connect(external, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def own_database(database: Database, prefix: str) -> AbstractContextManager[Database]:
    """A database of its own on the tests' server, for tests that change the log itself;
    dropped at the end."""
    return scratch_database(database, prefix)


@contextmanager
def own_log(
    database: Database, prefix: str, organisation: str
) -> Iterator[tuple[Database, Watchlist, Principal]]:
    """A database of its own (``own_database``), the application writing its log, and a
    reporter of ``organisation``, registered in it; the application closed at the end."""
    with own_database(database, prefix) as db:
        app = Watchlist(
            db.eventsourcing_env(), taxonomy=load_taxonomy(), master_key=secrets.token_bytes(32)
        )
        try:
            registered = app.register_organisation(organisation, "KZ")
            principal = app.authenticate(app.issue_key(registered, "reporter").key)
            assert principal is not None
            yield db, app, principal
        finally:
            app.close()


def projected_to_head(runner: ProjectorRunner, db: Database, timeout: float = 30) -> int:
    """Run ``runner`` until it has projected the log of ``db`` as it stands; its head."""
    from projector.runner import tracked_position

    thread, stop = run_in_thread(runner)
    try:
        with psycopg.connect(db.url, autocommit=True) as conn:
            row = conn.execute("SELECT max(notification_id) FROM watchlist_events").fetchone()
            head = int(row[0]) if row and row[0] is not None else 0
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and tracked_position(conn) < head:
                time.sleep(0.05)
    finally:
        stop.set()
        thread.join(30)
    return head


@pytest.fixture(scope="session")
def master_key() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture(scope="session")
def watchlist(database: Database, master_key: bytes) -> Iterator[Watchlist]:
    env = database.eventsourcing_env() | {"POSTGRES_POOL_SIZE": "4", "POSTGRES_MAX_OVERFLOW": "8"}
    app = Watchlist(env, taxonomy=load_taxonomy(), master_key=master_key)
    yield app
    app.close()


@pytest.fixture(scope="session")
def settings(
    database: Database, master_key: bytes, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        data_dir=Path(tmp_path_factory.mktemp("unused")),
        database_url=database.url,
        master_key=master_key,
    )


SIGNING_SEED = bytes(range(32))  # tests sign with a fixed key, so they can check signatures


def signing_chain() -> Chain:
    return Chain(Ed25519PrivateKey.from_private_bytes(SIGNING_SEED), every=50, seconds=60)


class ProjectorThread:
    """The projector, running in this process as `watchlist up` runs it; tests may stop it."""

    def __init__(self, database: Database, watchlist: Watchlist) -> None:
        self.database, self.taxonomy = database, watchlist.taxonomy
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.runner = ProjectorRunner(
            self.database, self.taxonomy, signing_chain(), poll_interval=0.2
        )
        self.thread, self.stop_event = run_in_thread(self.runner)
        assert self.runner.holds_lock.wait(30), "the projector never took its lock"

    def stop(self) -> None:
        if self.thread is not None:
            self.stop_event.set()
            self.thread.join(30)
            self.thread = None


@pytest.fixture
def new_projector(database: Database, watchlist: Watchlist) -> Any:
    """A second projector runner, for tests of standby and takeover."""
    return lambda: ProjectorRunner(database, watchlist.taxonomy, signing_chain(), poll_interval=0.2)


@pytest.fixture(scope="session")
def projector(database: Database, watchlist: Watchlist) -> Iterator[ProjectorThread]:
    running = ProjectorThread(database, watchlist)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def client(
    watchlist: Watchlist, settings: Settings, projector: ProjectorThread
) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(watchlist, settings)) as test_client:
        yield test_client


@dataclass
class Member:
    """An organisation with one key per role, ready to send requests."""

    organisation_id: UUID
    keys: dict[Role, str]

    def headers(self, role: Role = "reporter", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", **extra}


@pytest.fixture
def new_member(watchlist: Watchlist) -> Any:
    def make(name: str = "Shymkent women's legal centre") -> Member:
        organisation_id = watchlist.register_organisation(name, "KZ")
        keys = {
            role: watchlist.issue_key(organisation_id, role).key
            for role in ("reporter", "investigator", "auditor", "admin")
        }
        return Member(organisation_id, keys)  # type: ignore[arg-type]

    return make


@pytest.fixture
def member(new_member: Any) -> Member:
    return new_member()  # type: ignore[no-any-return]


@pytest.fixture
def other_member(new_member: Any) -> Member:
    return new_member("Almaty anti-trafficking hotline")  # type: ignore[no-any-return]


# Numbers the example reports of a session. Random names and phones would meet now and
# then (thousands of them share six phone digits), and two reports that meet are one firm.
_EXAMPLES = itertools.count()
_SESSION = secrets.token_hex(2)
# Phones +7 7252 30 01 xx belong to the recruiters that tests name on purpose.
_FIRST_EXAMPLE_PHONE = 400_000


def example_report() -> dict[str, Any]:
    """The README's example report about a recruiter no other test names.

    Tests share one database; were every test to report the same recruiter, it
    would grow into one firm of hundreds of reports that every submission re-renders.
    Each call names another recruiter, by name, phone, BIN, licence and website.
    """
    body = copy.deepcopy(EXAMPLE_REPORT)
    n = next(_EXAMPLES)
    tag, digits = f"{_SESSION}{n:x}", f"{_FIRST_EXAMPLE_PHONE + n:06d}"
    assert len(digits) == 6, "more example reports than phones to give them"
    body["subject"]["names"] = [f"ТОО «Рай {tag} за границей»", f"Rai {tag} Za Granitsei LLP"]
    body["subject"]["identifiers"] = [
        {"kind": "phone", "value": f"+7 (7252) {digits[:2]}-{digits[2:4]}-{digits[4:]}"},
        {"kind": "bin", "value": f"{10**11 + n:012d}"},
        {"kind": "licence", "value": f"KZ-LIC-{tag}"},
    ]
    body["subject"]["websites"] = [f"rai-{tag}.kz"]
    return body


@pytest.fixture
def report_body() -> dict[str, Any]:
    """A fresh example report, safe to modify."""
    return example_report()


@pytest.fixture
def count_events(database: Database) -> Callable[[], int]:
    """How many events the log holds now."""

    def count() -> int:
        with psycopg.connect(database.url) as conn:
            row = conn.execute("SELECT count(*) FROM watchlist_events").fetchone()
            assert row is not None
            return int(row[0])

    return count


@pytest.fixture
def rows_containing(database: Database) -> Callable[[str], list[str]]:
    """Every table of the database whose rows, as text or as bytes, contain a needle."""

    def find(needle: str) -> list[str]:
        hexed = needle.encode().hex()
        found = []
        with psycopg.connect(database.url) as conn:
            tables = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' "
                "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
            for schema, table in tables:
                query = sql.SQL(
                    "SELECT count(*) FROM {}.{} t WHERE t::text LIKE %s OR t::text LIKE %s"
                ).format(sql.Identifier(schema), sql.Identifier(table))
                row = conn.execute(query, (f"%{needle}%", f"%{hexed}%")).fetchone()
                if row and row[0]:
                    found.append(f"{schema}.{table}")
        return found

    return find
