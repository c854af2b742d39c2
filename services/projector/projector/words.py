"""The words of firm names, and how many firms each names: what a name search reads first.

Agencies share trade words ("Travel", "Work Abroad", "Personnel"), so a typed name is
trigram-similar to thousands of names through its common word alone, and comparing it
with every one of them is what made search slow. Each firm's names are split into
words instead (``firm_words``: one row per view, firm and word), and the vocabulary
(``name_words``) counts the firms each word names in each view, with a trigram index so
that a misspelt word still finds its own. A search reads the postings of the rarest words
like the typed ones first, and compares only those firms' names with the query. It reads
only the words and counts of the views its viewer sees: a word of another organisation's
private report must change nothing it finds, nor how fast.

The counts are those of ``firm_words`` as it stands, whatever the batches that wrote
it: the live projector adds and subtracts what each batch changes, a replay counts
the finished table once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor

from projector.identity import normalise_name
from projector.writing import Writes, copy_rows


def search_names(names: Iterable[str]) -> list[str]:
    """A firm's names as searches compare them: normalised, distinct, sorted."""
    return sorted({n for n in (normalise_name(name) for name in names) if n})


def words_of(names: Iterable[str]) -> list[str]:
    """The distinct words of normalised names, sorted."""
    return sorted({word for name in names for word in name.split()})


def write(
    cur: Cursor[Any] | Writes,
    stale: Sequence[tuple[str, UUID]],
    rows: Sequence[tuple[str, UUID, str, int]],
    *,
    count: bool,
) -> None:
    """Replace the words of the ``stale`` (view, firm) pairs by ``rows`` (view, firm, word,
    level rank); with ``count``, keep the vocabulary's counts up to date as well."""
    gone: Counter[tuple[str, str]] = Counter()
    if stale:
        assert isinstance(cur, Cursor), "the stale words are read back"
        cur.execute(
            "DELETE FROM firm_words w USING unnest(%b::text[], %b::uuid[]) AS p(view, id) "
            "WHERE w.view = p.view AND w.firm_id = p.id RETURNING w.view, w.word",
            ([view for view, _ in stale], [firm for _, firm in stale]),
        )
        gone.update((view, word) for view, word in cur.fetchall())
    if rows:
        copy_rows(cur, "firm_words (view, firm_id, word, level_rank)", rows)
    if count:
        change = Counter((view, word) for view, _, word, _ in rows)
        change.subtract(gone)
        _recount(cur, {key: n for key, n in sorted(change.items()) if n})


def rank(cur: Cursor[Any] | Writes, ranks: Sequence[tuple[str, UUID, int]]) -> None:
    """Give the words of each (view, firm) their firm's new level rank."""
    if ranks:
        cur.execute(
            "UPDATE firm_words w SET level_rank = r.rank "
            "FROM unnest(%b::text[], %b::uuid[], %b::smallint[]) AS r(view, firm_id, rank) "
            "WHERE w.view = r.view AND w.firm_id = r.firm_id",
            [list(column) for column in zip(*ranks, strict=True)],
        )


def _recount(cur: Cursor[Any] | Writes, change: dict[tuple[str, str], int]) -> None:
    if not change:
        return
    views, words = [view for view, _ in change], [word for _, word in change]
    cur.execute(
        "INSERT INTO name_words (view, word, firms) "
        "SELECT * FROM unnest(%b::text[], %b::text[], %b::int[]) "
        "ON CONFLICT (view, word) DO UPDATE SET firms = name_words.firms + excluded.firms",
        (views, words, list(change.values())),
    )
    # A word no firm bears any longer leaves the vocabulary, as a replay would never add it.
    if all(n > 0 for n in change.values()):
        return  # only more firms: no word can have lost its last
    assert not isinstance(cur, Writes), "the DELETE reads the counts the INSERT wrote"
    cur.execute(
        "DELETE FROM name_words n USING unnest(%b::text[], %b::text[]) AS c(view, word) "
        "WHERE n.view = c.view AND n.word = c.word AND n.firms = 0",
        (views, words),
    )


def count_all(cur: Cursor[Any]) -> None:
    """The vocabulary of a generation whose ``firm_words`` a replay has just filled."""
    cur.execute(
        "INSERT INTO name_words (view, word, firms) "
        "SELECT view, word, count(*) FROM firm_words GROUP BY view, word"
    )
