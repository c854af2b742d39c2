"""How events and the write side's own tables are stored.

Events are encoded with msgspec (eventsourcing 9.5's ``Mapper`` reads
``vars(event)``, which Structs lack). The recorder adds the write side's
tables, whose rows commit in the same transaction as the events that cause
them: API keys, idempotency keys, report data keys and the directory of
reports. They are not read models: nothing is derived from them that the log
does not also hold, except the data keys, which must live outside the log.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import cache
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    Mapper,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic, resolve_topic
from psycopg import Connection, Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier
from psycopg_pool import ConnectionPool

Statement = tuple[str, Sequence[Any]]
CHECK_AFTER_IDLE_SECONDS = 1.0  # see CheckAfterIdle


def insert_rows(
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    conflict: str = "",
) -> Statement:
    """One INSERT for many rows: each column travels as one typed array, unnested in SQL.

    ``columns`` are (name, SQL type) pairs; ``conflict`` is an optional
    ``ON CONFLICT`` clause. A thousand rows cost one statement, not a thousand.
    """
    names = ", ".join(name for name, _ in columns)
    # Binary parameters (%b): arrays of text travel as text would otherwise be escaped
    # element by element in Python, which costs more than the INSERT itself.
    arrays = ", ".join(f"%b::{kind}[]" for _, kind in columns)
    values = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in columns]
    return (
        f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {conflict}".rstrip(),
        values,
    )


class MsgspecTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        return msgspec.json.encode(obj)

    def decode(self, data: bytes) -> Any:
        return msgspec.json.decode(data)


@cache
def _decoder(cls: type) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(cls)


class MsgspecMapper(Mapper[UUID]):
    """Stores an event as the JSON of its Struct, under its class path (its topic)."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=msgspec.json.encode(domain_event),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event: DomainEventProtocol[UUID] = _decoder(resolve_topic(stored_event.topic)).decode(
            stored_event.state
        )
        return event


# Every process that creates the shared schema takes this lock first, in the creating
# transaction: the write side here, the projector's audit chain (projector/chain.py).
# Both make or replace the function ``watchlist_append_only``, and two concurrent
# CREATE OR REPLACE of one function fail ("tuple concurrently updated"), as do two
# CREATE IF NOT EXISTS of one table.
SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtext('watchlist_tables'))"

# Appending to the log is serialised, so that events are committed in the order of their
# notification ids and a reader following the log never passes an id that commits later.
# The library does it by locking the events table in EXCLUSIVE mode, which also waits for
# VACUUM and ANALYZE of the table. On a busy log autovacuum's ANALYZE of it was cancelled
# each time it had held every writer up for deadlock_timeout (a second), and tried again
# a minute later: every report submitted in that second waited for it. Writers take this
# lock instead, with the table in ROW EXCLUSIVE mode (what an INSERT takes anyway, and
# what an older writer's EXCLUSIVE lock still waits for, and makes wait).
APPEND_LOCK = "SELECT pg_advisory_xact_lock(hashtext('watchlist_events append'))"

# Every transaction locks the events table before the write side's tables (see
# ``WatchlistRecorder.insert_events``), so these statements, run by every process as it
# starts, do too: a trigger or an index made or replaced locks its table even when it
# exists already, and the other order deadlocks against a writer.
TABLES = [
    """CREATE OR REPLACE FUNCTION watchlist_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""",
    # Rule 1 in the database too: stored events are never updated or deleted.
    """CREATE OR REPLACE TRIGGER watchlist_events_append_only BEFORE UPDATE OR DELETE
        ON watchlist_events FOR EACH ROW EXECUTE FUNCTION watchlist_append_only()""",
    """CREATE TABLE IF NOT EXISTS watchlist_api_keys (
        key_id uuid PRIMARY KEY,
        organisation_id uuid NOT NULL,
        role text NOT NULL,
        key_hash bytea NOT NULL,
        issued_at timestamptz NOT NULL,
        revoked_at timestamptz)""",
    """CREATE TABLE IF NOT EXISTS watchlist_report_keys (
        report_id uuid PRIMARY KEY,
        organisation_id uuid NOT NULL,
        wrapped_key bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        erased_at timestamptz)""",
    """CREATE TABLE IF NOT EXISTS watchlist_idempotency_keys (
        organisation_id uuid NOT NULL,
        idempotency_key text NOT NULL,
        request_hash bytea NOT NULL,
        report_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (organisation_id, idempotency_key))""",
    """CREATE TABLE IF NOT EXISTS watchlist_reports (
        report_id uuid PRIMARY KEY,
        organisation_id uuid NOT NULL,
        sharing text NOT NULL,
        status text NOT NULL,
        version integer NOT NULL,
        display_name text NOT NULL,
        country text NOT NULL,
        submitted_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        seq bigserial NOT NULL)""",
    """CREATE INDEX IF NOT EXISTS watchlist_reports_by_org
        ON watchlist_reports (organisation_id, seq DESC)""",
    """CREATE INDEX IF NOT EXISTS watchlist_reports_shared
        ON watchlist_reports (seq DESC) WHERE sharing = 'partners'""",
    """CREATE TABLE IF NOT EXISTS watchlist_access_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        request_id uuid NOT NULL,
        organisation_id uuid,
        key_id uuid,
        client text,
        role text NOT NULL,
        method text NOT NULL,
        route text NOT NULL,
        path text NOT NULL,
        report_ids uuid[] NOT NULL,
        firm_ids uuid[] NOT NULL,
        status integer NOT NULL,
        latency_ms real NOT NULL)""",
    # Data directories made before public checks were logged: make the columns fit.
    """ALTER TABLE watchlist_access_log ADD COLUMN IF NOT EXISTS client text,
        ALTER COLUMN organisation_id DROP NOT NULL, ALTER COLUMN key_id DROP NOT NULL""",
    """CREATE INDEX IF NOT EXISTS watchlist_access_by_org
        ON watchlist_access_log (organisation_id, id)""",
    """CREATE INDEX IF NOT EXISTS watchlist_access_by_firm
        ON watchlist_access_log USING gin (firm_ids)""",
    """CREATE INDEX IF NOT EXISTS watchlist_access_by_report
        ON watchlist_access_log USING gin (report_ids)""",
    """CREATE OR REPLACE TRIGGER watchlist_access_log_append_only BEFORE UPDATE OR DELETE
        ON watchlist_access_log FOR EACH ROW EXECUTE FUNCTION watchlist_append_only()""",
]


# How eventsourcing's own connections raise psycopg's errors (most specific first).
LIBRARY_ERRORS: list[tuple[type[psycopg.Error], type[PersistenceError]]] = [
    (psycopg.InterfaceError, InterfaceError),
    (psycopg.OperationalError, OperationalError),
    (psycopg.DataError, DataError),
    (psycopg.IntegrityError, IntegrityError),
    (psycopg.InternalError, InternalError),
    (psycopg.ProgrammingError, ProgrammingError),
    (psycopg.NotSupportedError, NotSupportedError),
    (psycopg.DatabaseError, DatabaseError),
    (psycopg.Error, PersistenceError),
]


class CheckAfterIdle:
    """The pool's check of a connection it lends, made only if the connection sat idle.

    With ``POSTGRES_PRE_PING`` the pool checks every connection it lends with a
    round trip. Under load a connection is lent again within milliseconds, and
    the check was one of a profile read's two round trips. A connection
    last lent more than ``seconds`` ago (or never) is still checked, and
    replaced if the server dropped it meanwhile: a restart or an idle timeout
    is found before a request meets it. One that died within the last
    ``seconds`` fails its request, as it would have failed the request that
    used it a moment before.

    It counts from when the connection was last lent, not returned: the pool
    would run a ``reset`` callback in a worker thread on every return, a thread
    hop dearer than the check. A connection held long (a writer's) is checked
    when it is lent again, as one in doubt should be.
    """

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds, self._clock = seconds, clock
        self._lent: weakref.WeakKeyDictionary[Connection[Any], float] = weakref.WeakKeyDictionary()

    def __call__(self, conn: Connection[Any]) -> None:
        """Raises, as the pool's own check does, if a connection in doubt does not answer."""
        now = self._clock()
        lent, self._lent[conn] = self._lent.get(conn), now
        if lent is None or now - lent > self._seconds:
            ConnectionPool.check_connection(conn)

    def install(self, pool: ConnectionPool[Any]) -> None:
        # psycopg_pool takes a check only as a constructor argument, and eventsourcing
        # constructs the pool: set it before the pool lends its first connection.
        pool._check = self


class LogRecorder(PostgresApplicationRecorder):
    """The library's application recorder, whose types, tables and functions are made
    in one transaction holding ``SCHEMA_LOCK``: what the projector reads the log with.

    The library's own ``create_table`` runs them in transactions of its own, without the
    lock, and replaces its insert function each time: the API and the projector started
    together failed now and then with "tuple concurrently updated".
    """

    # The write side's tables, made in the same transaction (see ``WatchlistRecorder``).
    more_tables: Sequence[str] = ()

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SCHEMA_LOCK)
            for library_statement in self.sql_create_statements:
                if "CREATE TYPE" in library_statement.as_string():
                    # No IF NOT EXISTS for a type: tried under a savepoint, kept if new.
                    with suppress(psycopg.errors.DuplicateObject), curs.connection.transaction():
                        curs.execute(library_statement, prepare=False)
            self._create_table(curs)
            for statement in self.more_tables:
                curs.execute(statement)
        self.datastore.register_type_adapters()


class WatchlistRecorder(LogRecorder):
    """The application recorder, plus the write side's tables in the same transaction."""

    more_tables = TABLES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.datastore.pre_ping:
            CheckAfterIdle(CHECK_AFTER_IDLE_SECONDS).install(self.datastore.pool)
        # The library sends events as one array of a composite type, in text: quoting each
        # event's JSON state in Python costs more than the database's work. Four binary
        # arrays, unnested in the same order, insert the same rows in the same order.
        self.insert_events_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::integer[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        self._held = threading.local()
        # Log order = commit order, as the library's lock makes it, but without its table
        # lock (see ``APPEND_LOCK``).
        self.lock_table_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout),
            SQL("LOCK TABLE {0}.{1} IN ROW EXCLUSIVE MODE").format(
                Identifier(self.datastore.schema), Identifier(self.events_table_name)
            ),
            SQL(APPEND_LOCK),
        ]
        # The lock and notification, sent with the BEGIN as one simple query: one round
        # trip where they took three.
        self.begin_statement = SQL("; ").join(
            [
                SQL("BEGIN"),
                *self.lock_table_statements,
                SQL("NOTIFY {0}").format(Identifier(self.channel_name)),
            ]
        )

    def _insert_with_writes(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        writes: Sequence[Statement],
    ) -> None:
        """The events and the writes in one statement: each write runs as a data-modifying
        ``WITH`` query of the events' INSERT, exactly once, in the same snapshot.

        The writes touch other tables than the events and read nothing the others
        change, so this is what running them one by one would do, in one round trip.
        """
        events = [
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        ]
        if not writes:
            curs.execute(self.insert_events_statement, events)
            return
        queries = SQL(", ").join(
            SQL("{0} AS ({1})").format(Identifier(f"write_{i}"), SQL(statement))
            for i, (statement, _) in enumerate(writes)
        )
        params = [param for _, write_params in writes for param in write_params]
        curs.execute(
            SQL("WITH {0} {1}").format(queries, self.insert_events_statement), params + events
        )

    @contextmanager
    def holding_connection(self) -> Iterator[None]:
        """Lend this thread one connection of the pool until the block ends.

        The pool checks a connection with a round trip each time it lends one;
        for a group-commit writer that was the dearest part of a batch after the
        COMMIT. A writer that commits batch after batch holds one connection for
        as long as work keeps coming, checked once. If a write fails, the writer
        leaves the block, and a broken connection goes back to the pool.
        """
        with self.datastore.get_connection() as conn:
            self._held.connection = conn
            try:
                yield
            finally:
                self._held.connection = None

    @contextmanager
    def connection(self) -> Iterator[Connection[DictRow]]:
        """The connection this thread holds, or one lent by the pool for the block;
        psycopg's errors raised as the library's, as its own connections do."""
        held: Connection[DictRow] | None = getattr(self._held, "connection", None)
        if held is None:
            with self.datastore.get_connection() as conn:
                yield conn
            return
        try:
            yield held
        except psycopg.Error as exc:
            for theirs, ours in LIBRARY_ERRORS:
                if isinstance(exc, theirs):
                    raise ours(str(exc)) from exc
            raise

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        writes: Sequence[Statement] = (),
        **kwargs: Any,
    ) -> Sequence[int] | None:
        """Events and write-side rows in one transaction of three round trips: BEGIN with the
        lock, one INSERT of everything, COMMIT.

        Not the library's pipeline: a refused write (a duplicate idempotency key, say) must
        surface as IntegrityError, where pipeline mode can surface it as an aborted
        pipeline that the library retries in vain; and a large batch of events in
        pipeline mode stalled on the embedded server's Unix socket.
        """
        with self.connection() as conn, conn.cursor() as curs:
            try:
                curs.execute(self.begin_statement)
                self._insert_events(curs, stored_events, **kwargs)
                self._insert_with_writes(curs, stored_events, writes)
                ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
                curs.execute(b"COMMIT")
            except BaseException:
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    with suppress(psycopg.Error):  # the first error is the one to tell
                        conn.rollback()
                raise
            return ids
