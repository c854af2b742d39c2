"""Lists of firms for one viewing organisation: browsed by risk level, or searched.

A viewer sees the 'partners' view, except where its own private reports reshape a
cluster: there its own view overrides. Each page carries the log position it reflects.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Connection

from projector import live, tables
from projector.identity import normalise_name, search_keys
from projector.risk import LEVELS, Level
from projector.words import words_of
from watchlist import cursors

VISIBLE = (
    "(f.view = %(me)s OR (f.view = 'partners' AND NOT EXISTS ("
    "SELECT 1 FROM {s}.overridden o WHERE o.view = %(me)s AND o.firm_id = f.firm_id)))"
)


class FirmSummary(msgspec.Struct, frozen=True, kw_only=True):
    firm_id: UUID
    display_name: str
    country: str
    level: Level
    score: float
    organisations: int
    match: float | None = None


class FirmPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[FirmSummary]
    next_cursor: str | None
    as_of_position: int


_FILTERS = (
    " AND (%(country)s::text IS NULL OR f.country = %(country)s)"
    " AND (%(level)s::int IS NULL OR f.level_rank = %(level)s)"
)
_COLUMNS = "f.firm_id, f.display_name, f.country, f.level, f.score, f.organisations"


def _with_position(s: str, page: str, order: str) -> str:
    """``page`` joined onto the pointer and the position: one row even when it is empty."""
    return (
        f"SELECT p.generation, t.position, page.* FROM {tables.POINTER} p "
        f"CROSS JOIN {s}.tracking t LEFT JOIN ({page}) page ON true ORDER BY {order}"
    )


@cache
def _browse_statement(s: str) -> str:
    return _with_position(
        s,
        f"SELECT {_COLUMNS}, f.level_rank FROM {s}.firms f WHERE {VISIBLE.format(s=s)}{_FILTERS} "
        "AND (f.level_rank, f.firm_id) < (%(rank)s, %(after)s) "
        "ORDER BY f.level_rank DESC, f.firm_id DESC LIMIT %(limit)s",
        "page.level_rank DESC, page.firm_id DESC",
    )


# Firms a name search compares with the query at most, per view.
NAME_CANDIDATES = 100
# Typed words looked up at most, the longest first: the rest seldom tell firms apart.
TYPED_WORDS = 8


@cache
def _search_statement(s: str) -> str:
    """Firms with a key equal to one the query could mean, or with a name like it.

    Names are found through their words (projector/words.py): the words typed, where
    the vocabulary knows them, else the words like them. All the firms named by the
    rarest of those words are compared with the whole query, as many words as
    ``NAME_CANDIDATES`` firms allow; if even the rarest names more, its riskiest
    firms; and the firms with a name equal to the query. A firm's own rare word thus
    finds it among thousands sharing a trade word, and a query of trade words alone
    still reads a bounded list.
    """
    return _with_position(
        s,
        "WITH exact AS (SELECT DISTINCT k.view, k.firm_id, 2.0::float8 AS match "
        f"  FROM {s}.firm_keys k WHERE k.key = ANY(%(keys)s) AND k.view IN (%(me)s, 'partners')), "
        # A typed word is looked up as typed; one the vocabulary does not know (misspelt, or
        # spelt as no firm's name spells it) by trigram likeness, which costs far more.
        # Only the words of the views the viewer sees count, known or not. A number is
        # never misspelt, only another number (a phone typed with a digit wrong): it is
        # looked up as typed alone.
        "unknown AS MATERIALIZED (SELECT t.word FROM unnest(%(words)s::text[]) t(word) "
        "  WHERE t.word !~ '^[0-9]+$' "
        f"  AND NOT EXISTS (SELECT 1 FROM {s}.name_words k "
        "  WHERE k.word = t.word AND k.view IN (%(me)s, 'partners'))), "
        "alike AS (SELECT word, sum(firms) AS firms, max(likeness) AS likeness FROM ("
        "  SELECT view, word, firms, max(likeness) AS likeness FROM ("
        f"    SELECT v.view, v.word, v.firms, 1.0::real AS likeness FROM {s}.name_words v "
        "    WHERE v.word = ANY(%(words)s) AND v.view IN (%(me)s, 'partners') UNION ALL "
        "    SELECT v.view, v.word, v.firms, similarity(v.word, u.word) "
        f"    FROM unknown u JOIN {s}.name_words v ON v.word %% u.word "
        "    WHERE v.view IN (%(me)s, 'partners')) a GROUP BY view, word, firms) b "
        "  GROUP BY word), "
        "ranked AS (SELECT word, row_number() OVER rarest AS nth, sum(firms) OVER rarest AS "
        "  through FROM alike WINDOW rarest AS (ORDER BY firms, likeness DESC, word)), "
        "candidates AS (SELECT DISTINCT p.view, p.firm_id FROM ranked r "
        "  CROSS JOIN (VALUES (%(me)s), ('partners')) AS seen(view) CROSS JOIN LATERAL ("
        f"    SELECT w.view, w.firm_id FROM {s}.firm_words w "
        "    WHERE w.word = r.word AND w.view = seen.view "
        "    AND (%(level)s::int IS NULL OR w.level_rank = %(level)s) "
        "    ORDER BY w.level_rank DESC, w.firm_id LIMIT %(candidates)s) p "
        "  WHERE r.through <= %(candidates)s OR r.nth = 1 "
        # A name typed whole finds its firms, however common its words.
        f"  UNION SELECT n.view, n.firm_id FROM {s}.firm_names n "
        "  WHERE n.name = %(name)s AND n.view IN (%(me)s, 'partners')), "
        "named AS (SELECT n.view, n.firm_id, max(similarity(n.name, %(name)s)) AS match "
        f"  FROM candidates c JOIN {s}.firm_names n ON n.view = c.view AND n.firm_id = c.firm_id "
        "  WHERE n.name %% %(name)s GROUP BY n.view, n.firm_id), "
        "hits AS (SELECT view, firm_id, max(match) AS match FROM "
        "  (SELECT * FROM exact UNION ALL SELECT * FROM named) h GROUP BY view, firm_id) "
        f"SELECT {_COLUMNS}, h.match, f.level_rank FROM hits h JOIN {s}.firms f "
        "  ON f.view = h.view AND f.firm_id = h.firm_id "
        f"WHERE {VISIBLE.format(s=s)}{_FILTERS} "
        "ORDER BY h.match DESC, f.level_rank DESC, f.firm_id "
        "OFFSET %(offset)s LIMIT %(limit)s",
        "page.match DESC, page.level_rank DESC, page.firm_id",
    )


def search(
    conn: Connection[Any],
    viewer: UUID,
    *,
    q: str | None,
    country: str | None,
    level: Level | None,
    cursor: str | None,
    limit: int,
) -> FirmPage:
    params: dict[str, Any] = {
        "me": str(viewer),
        "country": country,
        "level": LEVELS.index(level) if level else None,
        "limit": limit + 1,
    }
    try:
        if not q:
            rank, after = _decode_keyset(cursor)
            rows = live.read(conn, _browse_statement, params | {"rank": rank, "after": after})
            found = [row[2:] for row in rows if row[2] is not None]
            last = found[limit - 1] if len(found) > limit else None
            return FirmPage(
                items=[_summary(row[:6], None) for row in found[:limit]],
                as_of_position=int(rows[0][1]),
                next_cursor=cursors.encode(f"{last[6]}:{last[0]}") if last else None,
            )
        offset = cursors.decode_int(cursor, 0)
        name = normalise_name(q)
        typed = sorted(words_of([name]), key=len, reverse=True)[:TYPED_WORDS]
        params |= {
            "keys": search_keys(q, country),
            "name": name,
            "words": typed,
            "candidates": NAME_CANDIDATES,
            "offset": offset,
        }
        rows = live.read_by_index(conn, _search_statement, params)
    except live.Rebuilding:
        raise  # an empty list would tell a caller that nobody reported the firm
    except live.NotProjected:
        return FirmPage(items=[], next_cursor=None, as_of_position=0)
    found = [row[2:] for row in rows if row[2] is not None]
    return FirmPage(
        items=[_summary(row[:6], min(float(row[6]), 1.0)) for row in found[:limit]],
        as_of_position=int(rows[0][1]),
        next_cursor=cursors.encode(offset + limit) if len(found) > limit else None,
    )


def _summary(row: tuple[Any, ...], match: float | None) -> FirmSummary:
    firm_id, name, country, level, score, organisations = row
    return FirmSummary(
        firm_id=firm_id,
        display_name=name,
        country=country,
        level=level,
        score=score,
        organisations=organisations,
        match=match,
    )


def _decode_keyset(cursor: str | None) -> tuple[int, UUID]:
    if not cursor:
        return len(LEVELS), UUID(int=(1 << 128) - 1)
    try:
        rank, firm_id = cursors.decode(cursor).split(":")
        return int(rank), UUID(firm_id)
    except ValueError:
        raise cursors.invalid() from None
