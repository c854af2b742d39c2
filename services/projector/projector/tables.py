"""Read-model tables. Each build lives in a schema of its own, a *generation*.

The live generation is named in ``watchlist_read_model``; a rebuild fills a new
generation beside it while the API keeps reading the live one, then one
transaction points the API (and the projector) at the new one. The tracking
position lives inside each generation, so read models and position always
travel together.
"""

from __future__ import annotations

from typing import Any

from psycopg import Connection, Cursor, sql
from psycopg.rows import tuple_row

POINTER = "watchlist_read_model"
SCHEMA_PREFIX = "watchlist_rm_"
# The channel on which the projector announces each batch it commits (the position it
# reached): the API's read-your-writes waiters wake on it instead of polling.
PROJECTED_CHANNEL = "watchlist_projected"
# The shape of a generation: its tables and how they hold what they hold. A change to
# either raises it, and a projector that finds the live generation at another format
# replays the log into a new one and swaps it in: read models are disposable.
FORMAT = 5
_FORMAT_NOTE = "watchlist read models, format {}"

POINTER_DDL = f"""CREATE TABLE IF NOT EXISTS {POINTER} (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation integer NOT NULL,
    swapped_at timestamptz NOT NULL DEFAULT now())"""

# Every statement runs with search_path set to the generation's schema.
GENERATION_DDL = [
    """CREATE TABLE tracking (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())""",
    "INSERT INTO tracking (position) VALUES (0)",
    """CREATE TABLE organisations (
        organisation_id uuid NOT NULL,
        name text NOT NULL)""",
    # The current state of every report, as the log last left it.
    """CREATE TABLE reports (
        report_id uuid NOT NULL,
        organisation_id uuid NOT NULL,
        sharing text NOT NULL,
        status text NOT NULL,
        version integer NOT NULL,
        first_position bigint NOT NULL,
        last_position bigint NOT NULL)""",
    # Normalised match keys of each report's current version.
    """CREATE TABLE report_keys (
        report_id uuid NOT NULL,
        key text NOT NULL)""",
    # One row per event about a report or a firm: the timeline, and what profiles fold.
    """CREATE TABLE entries (
        position bigint NOT NULL,
        time timestamptz NOT NULL,
        kind text NOT NULL,
        report_id uuid,
        organisation_id uuid,
        content jsonb,
        reason text,
        firm_a uuid,
        firm_b uuid,
        licence jsonb,
        reply jsonb,
        outcome text)""",
    # Investigators' decisions: links and separations between reports (firm ids).
    """CREATE TABLE decisions (
        a uuid NOT NULL,
        b uuid NOT NULL,
        kind text NOT NULL,
        position bigint NOT NULL)""",
    # Which firm each report belongs to, per view: 'partners' (shared reports only)
    # or an organisation's own view (shared reports and its private ones).
    """CREATE TABLE memberships (
        view text NOT NULL,
        report_id uuid NOT NULL,
        firm_id uuid NOT NULL)""",
    """CREATE TABLE firms (
        view text NOT NULL,
        firm_id uuid NOT NULL,
        display_name text NOT NULL,
        country text NOT NULL,
        level text NOT NULL,
        level_rank smallint NOT NULL,
        score double precision NOT NULL,
        organisations integer NOT NULL,
        profile bytea NOT NULL,
        as_of_position bigint NOT NULL)""",
    """CREATE TABLE firm_names (
        view text NOT NULL,
        firm_id uuid NOT NULL,
        name text NOT NULL)""",
    # The identifier keys a firm's profile shows (phones, BINs, sites...): what a search
    # for an identifier looks up, one row per firm, however many reports repeat the key.
    """CREATE TABLE firm_keys (
        view text NOT NULL,
        firm_id uuid NOT NULL,
        key text NOT NULL)""",
    # The words of each firm's names (projector/words.py), with the firm's level, so that
    # a search taking the first firms a common word names takes the riskiest.
    """CREATE TABLE firm_words (
        view text NOT NULL,
        firm_id uuid NOT NULL,
        word text NOT NULL,
        level_rank smallint NOT NULL)""",
    # Every word of a firm name, and how many firms bear it, per view: a search reads the
    # counts of the views its viewer sees, so no private name shows through them.
    """CREATE TABLE name_words (
        view text NOT NULL,
        word text NOT NULL,
        firms integer NOT NULL)""",
    # Partner-view firms that an organisation's private reports reshape in its own view.
    """CREATE TABLE overridden (
        view text NOT NULL,
        firm_id uuid NOT NULL)""",
]


# Primary keys and secondary indexes, apart from the tables: a replay fills empty tables
# first and builds each index once after, in one sort, rather than row by row. The keys
# are added first, so a duplicate a replay made fails it there, as an insert would.
GENERATION_KEYS = [
    f"ALTER TABLE {table} ADD PRIMARY KEY ({columns})"
    for table, columns in {
        "organisations": "organisation_id",
        "reports": "report_id",
        "report_keys": "report_id, key",
        "entries": "position",
        "decisions": "a, b",
        "memberships": "view, report_id",
        "firms": "view, firm_id",
        "firm_names": "view, firm_id, name",
        "firm_keys": "view, firm_id, key",
        "firm_words": "view, firm_id, word",
        "name_words": "view, word",
        "overridden": "view, firm_id",
    }.items()
]
GENERATION_INDEXES = [
    # Finding the firms a new report reaches reads the reports that share its keys, then
    # their memberships in every view: from the indexes alone, not a heap page a row.
    "CREATE INDEX report_keys_by_key ON report_keys (key) INCLUDE (report_id)",
    "CREATE INDEX entries_by_report ON entries (report_id, position)",
    "CREATE INDEX entries_by_firm_a ON entries (firm_a) WHERE firm_a IS NOT NULL",
    "CREATE INDEX entries_by_firm_b ON entries (firm_b) WHERE firm_b IS NOT NULL",
    "CREATE INDEX decisions_by_b ON decisions (b)",
    "CREATE INDEX memberships_by_firm ON memberships (view, firm_id)",
    "CREATE INDEX memberships_by_report ON memberships (report_id) INCLUDE (view, firm_id)",
    "CREATE INDEX firm_words_by_word ON firm_words (word, view, level_rank DESC, firm_id)",
    "CREATE INDEX firm_names_by_name ON firm_names (name, view)",
    "CREATE INDEX firm_keys_by_key ON firm_keys (key, view)",
    # No pending list: a search would scan the words written since autovacuum last merged it.
    # Names themselves need no trigram index: a search reaches them through their words.
    "CREATE INDEX name_words_trgm ON name_words USING gin (word gin_trgm_ops) "
    "WITH (fastupdate = off)",
    "CREATE INDEX firms_by_level ON firms (view, level_rank, firm_id)",
    "CREATE INDEX overridden_by_firm ON overridden (firm_id)",
]

_INDEXES = GENERATION_KEYS + GENERATION_INDEXES


def schema_name(generation: int) -> str:
    return f"{SCHEMA_PREFIX}{generation}"


def ensure_pointer(conn: Connection[Any]) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('watchlist_read_model'))")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        conn.execute(POINTER_DDL)


def live_generation(conn: Connection[Any]) -> int | None:
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(f"SELECT generation FROM {POINTER}").fetchone()
    return None if row is None else int(row[0])


def create_generation(conn: Connection[Any], *, indexes: bool = True) -> int:
    """A new, empty generation schema; not live until swapped in. Without ``indexes`` its
    primary keys and secondary indexes wait for ``create_indexes``."""
    with conn.transaction():
        with conn.cursor(row_factory=tuple_row) as cur:
            row = cur.execute(
                "SELECT coalesce(max(substring(nspname FROM %s)::int), 0) + 1 FROM pg_namespace "
                "WHERE nspname LIKE %s",
                (f"^{SCHEMA_PREFIX}(\\d+)$", f"{SCHEMA_PREFIX}%"),
            ).fetchone()
        assert row is not None
        generation = int(row[0])
        schema = sql.Identifier(schema_name(generation))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        conn.execute(
            sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                schema, sql.Literal(_FORMAT_NOTE.format(FORMAT))
            )
        )
        conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(schema))
        for statement in GENERATION_DDL + (_INDEXES if indexes else []):
            conn.execute(statement)
        for statement in _storage(conn):
            conn.execute(statement)
    return generation


def format_of(conn: Connection[Any], generation: int) -> int | None:
    """The format a generation was built in (None: before formats were recorded)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
            (schema_name(generation),),
        ).fetchone()
    note = row[0] if row else None
    prefix = _FORMAT_NOTE.format("")
    if not note or not note.startswith(prefix) or not note[len(prefix) :].isdigit():
        return None
    return int(note[len(prefix) :])


def create_indexes(conn: Connection[Any]) -> None:
    """The primary keys and secondary indexes of the generation on the search_path, each
    built in one pass over its full table."""
    for statement in _INDEXES:
        conn.execute(statement)


def _storage(conn: Connection[Any]) -> list[str]:
    """How the large columns are stored. Profiles come compressed (``profile.packed``), so
    PostgreSQL need not try again; timeline contents are compressed with lz4 where the
    server has it, else kept out of line uncompressed, since pglz costs more time than
    the space it saves."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        ).fetchone()
    setting = "COMPRESSION lz4" if row and row[0] else "STORAGE EXTERNAL"
    return [
        "ALTER TABLE firms ALTER COLUMN profile SET STORAGE EXTERNAL",
        f"ALTER TABLE entries ALTER COLUMN content SET {setting}",
    ]


def drop_generation(conn: Connection[Any], generation: int) -> None:
    conn.execute(
        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_name(generation)))
    )


# Unqualified table names to the schema of generation ``{}`` to the end of the
# transaction, as a select-list item: reading the live generation sets it too.
# The prefix is written in: a constant, so the expression needs no parameter.
SEARCH_PATH = (
    f"set_config('search_path', quote_ident('{SCHEMA_PREFIX}' || {{}}) || ', public', true)"
)
# And JIT off (see ``use_generation``).
_USE = SEARCH_PATH + ", set_config('jit', 'off', true)"
# A projector's batch: the live generation, held, and its statements planned once.
_BEGUN = (
    f"SELECT generation, {_USE.format('generation')}, "
    f"set_config('plan_cache_mode', 'force_generic_plan', true) FROM {POINTER} FOR SHARE"
)


def use_generation(conn: Connection[Any], generation: int) -> None:
    """Point unqualified table names of this transaction at ``generation``.

    JIT goes off too: a batch's statements are small, and on a generation not analysed
    yet the planner prices them high enough to compile, which cost more than running them
    (a tenth of a second each, measured).
    """
    conn.execute(f"SELECT {_USE.format('%(generation)s::text')}", {"generation": generation})


def begin_on_live_generation(cur: Cursor[Any], then: str) -> int:
    """Begin a transaction on the live generation (as ``use_generation``), which no
    rebuild may swap until it ends, and run ``then`` in it, in one message to the server;
    which generation it is.

    The projector starts every batch so. The simple query protocol takes several
    statements in one message, each named in the ``search_path`` the one before set:
    ``BEGIN``, the generation and the first read took a round trip each before. Hence
    ``then`` has no parameters. The cursor is left on its rows; the caller commits or
    rolls back (the connection in autocommit mode, so that psycopg begins nothing).

    The batch's statements are planned once per connection (``plan_cache_mode``): psycopg
    prepares those it runs often, but PostgreSQL planned each again for its parameters.
    Finding which firms a batch's reports reach took 0.44 ms to plan and 0.04 ms to run;
    its generic plan runs as fast.
    """
    cur.execute(f"BEGIN; {_BEGUN}; {then}")
    cur.nextset()
    row = cur.fetchone()
    assert row is not None, "the live generation is made before the projector follows"
    cur.nextset()
    return int(row[0])


def announce(conn: Connection[Any], position: int) -> None:
    """Tell the API's waiters that the read models reach ``position``: delivered when the
    caller's transaction commits (``PROJECTED_CHANNEL``)."""
    conn.execute(*announcement(position))


def announcement(position: int) -> tuple[str, tuple[str, str]]:
    """``announce`` as a query and its parameters, for a statement that writes too."""
    return "SELECT pg_notify(%s, %s)", (PROJECTED_CHANNEL, str(position))


def vacuum_generation(conn: Connection[Any], generation: int) -> None:
    """VACUUM (ANALYZE) every table of a generation filled in one go, before it goes live.

    Fresh planner statistics: without them the planner takes a table of thousands of
    words for a few and passes over the trigram index. Pages marked all-visible: a
    search reads ``firm_words`` by index alone, where the planner would otherwise
    price every posting as a heap fetch and read a common word's postings whole. And
    autovacuum left nothing to visit: after a replay of a million reports it worked
    through the new generation's reports, keys and entries while the projector followed
    the log, on the same two cores. Needs an autocommit connection (VACUUM runs outside
    transactions).
    """
    schema = schema_name(generation)
    with conn.cursor(row_factory=tuple_row) as cur:
        names = cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
        for (table,) in names:
            cur.execute(
                sql.SQL("VACUUM (ANALYZE) {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
