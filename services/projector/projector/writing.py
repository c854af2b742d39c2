"""New read-model rows, and a batch's last writes sent as one statement.

The replay fills empty tables with COPY. The live projector's batches are small, and
there each statement costs far more than its rows: a message to the server and one
back, each waking the other process, and the server's own work to run it. At 200
reports a second a report's twenty-odd statements kept the projector busy nearly all
the time, and the answers waited. A batch's writes (its facts, the firms its reports
join or start, the tracking position, the audit chain) go as one statement instead
(``Writes``), unless something in between reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import Copy, Cursor, DataError

from watchlist.persistence import Statement, insert_rows

# Each table's columns and their SQL types, as the catalog gives them: the same in every
# generation (a change of format is a rebuild, by new code in a new process).
_COLUMNS: dict[str, list[tuple[str, str]]] = {}
# Types whose binary form psycopg writes from the values the projector holds.
_BINARY = frozenset(
    [
        "text",
        "uuid",
        "smallint",
        "integer",
        "bigint",
        "bytea",
        "boolean",
        "timestamp with time zone",
    ]
)


class Writes:
    """Writes gathered, then sent as one statement: each a data-modifying ``WITH`` query.

    PostgreSQL runs them on one snapshot, in no set order: none may read what another
    writes, nor change a row another changes. So only writes independent of each other
    go here (a batch's facts, the firms it joins or starts, its tracking position, its
    chain), and whatever reads what they change sends them first (``send``).
    """

    def __init__(self, cur: Cursor[Any]) -> None:
        self.cur = cur
        self._queries: list[str] = []
        self._params: list[Any] = []

    def execute(self, query: str, params: Sequence[Any] = ()) -> None:
        """Gather one INSERT, UPDATE or DELETE, its parameters positional."""
        assert "%(" not in query, "positional parameters only: the queries are joined"
        self._queries.append(query)
        self._params.extend(params)

    def send(self, main: str = "SELECT", params: Sequence[Any] = ()) -> None:
        """Run what was gathered, in one statement whose main query is ``main``."""
        if not self._queries and main == "SELECT":
            return
        gathered = ", ".join(f"w{n} AS ({query})" for n, query in enumerate(self._queries))
        query = f"WITH {gathered} {main}" if gathered else main
        self.cur.execute(query, [*self._params, *params])
        self._queries.clear()
        self._params.clear()


def copy_rows(cur: Cursor[Any] | Writes, table: str, rows: Sequence[Sequence[Any]]) -> None:
    """Rows into ``table`` (a name and its columns): new rows only, many at once.

    By binary COPY, typed as the catalog says: nothing to escape, where the text format
    spelled every UUID out and every stored profile in hex (a firm's row cost 12 µs of
    the projector's CPU in text, 2 in binary). The server refuses a text holding U+0000
    and the whole COPY with it, so the texts are checked first, a column at a time, and
    only if one holds U+0000 are the rows made ``storable``. Into ``Writes``, as one
    INSERT of typed arrays, every text made storable first, for the same reason.
    """
    if not rows:
        return
    if isinstance(cur, Writes):
        cur.execute(*inserted(cur.cur, table, rows))
        return
    columns = _columns(cur, table)
    types = [type_ for _, type_ in columns]
    if not _BINARY.issuperset(types):  # a JSON column: text, whose dumper checks for U+0000
        with cur.copy(f"COPY {table} FROM STDIN") as copy:
            write_rows(copy, rows)
        return
    texts = [at for at, type_ in enumerate(types) if type_ == "text"]
    if any("\x00" in "".join([row[at] or "" for row in rows]) for at in texts):
        rows = [_storable_row(row) for row in rows]
    with cur.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def inserted(cur: Cursor[Any], table: str, rows: Sequence[Sequence[Any]]) -> Statement:
    """One INSERT of ``rows`` into ``table`` ("name (a, b)"), the columns typed as the
    catalog says."""
    name = table.partition(" (")[0]
    return insert_rows(name, _columns(cur, table), [_storable_row(row) for row in rows])


def _columns(cur: Cursor[Any], table: str) -> list[tuple[str, str]]:
    """The columns of ``table`` ("name (a, b)") and their SQL types (asked once per table)."""
    columns = _COLUMNS.get(table)
    if columns is None:
        name, _, listed = table.partition(" (")
        types = dict(
            cur.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (name,),
            ).fetchall()
        )
        columns = _COLUMNS[table] = [(c, types[c]) for c in listed.rstrip(")").split(", ")]
    return columns


def write_rows(copy: Copy, rows: Iterable[Sequence[Any]]) -> None:
    """Rows into a COPY under way (see ``copy_rows``)."""
    for row in rows:
        try:
            copy.write_row(row)
        except DataError:
            copy.write_row(_storable_row(row))


def storable(text: str) -> str:
    """PostgreSQL holds no U+0000 in text. The API refuses it, but a log written before it
    did must still replay: the read models show U+FFFD in its place (JSON values are made
    storable as they are encoded, by ``entries.json_text``)."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _storable_row(row: Sequence[Any]) -> list[Any]:
    return [storable(v) if isinstance(v, str) else v for v in row]
