"""Read-model rows of a batch, written by difference from what the generation held.

A batch that touches a large firm changes a few of its rows; writing only those
keeps the cost of a new report from growing with every membership of every view.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg import Cursor

from projector import words
from projector.profile import Profile, packed
from projector.risk import LEVELS
from projector.writing import copy_rows


class WrittenProfiles:
    """The firm profiles this projector last wrote, kept while it alone writes them.

    Decoding a large firm's stored profile costs more than the rest of adding a report
    to it (0.6 ms for one of 89 KB of JSON; inflating it takes 0.02 ms). A profile is
    remembered as it is written and forgotten when its row is deleted; all are forgotten
    whenever what was written may not be what the read models hold: a batch that failed,
    another projector's turn, another generation. The least recently used go first,
    beyond a budget of stored (compressed) bytes.
    """

    def __init__(self, budget: int = 8 << 20) -> None:
        self.budget, self.size = budget, 0
        self._held: OrderedDict[tuple[str, UUID], tuple[Profile, int]] = OrderedDict()

    def get(self, key: tuple[str, UUID]) -> Profile | None:
        held = self._held.get(key)
        if held is None:
            return None
        self._held.move_to_end(key)
        return held[0]

    def put(self, key: tuple[str, UUID], profile: Profile, size: int) -> None:
        self.forget([key])
        self._held[key] = profile, size
        self.size += size
        while self.size > self.budget:
            _, (_, gone) = self._held.popitem(last=False)
            self.size -= gone

    def forget(self, keys: Iterable[tuple[str, UUID]]) -> None:
        for key in keys:
            held = self._held.pop(key, None)
            if held is not None:
                self.size -= held[1]

    def clear(self) -> None:
        self._held.clear()
        self.size = 0


MEMBERSHIPS = "memberships (view, report_id, firm_id)"
FIRMS = (
    "firms (view, firm_id, display_name, country, level, level_rank, score, organisations, "
    "profile, as_of_position)"
)

# What a firm is searched by, each a pure function of its profile (``firm_texts``): its
# names (and, through them, their words), and the identifier keys it shows.
FIRM_TEXTS = {"firm_names": "name", "firm_keys": "key"}


def firm_texts(profile: Profile) -> dict[str, list[str]]:
    return {
        "firm_names": words.search_names(profile.names),
        "firm_keys": sorted({identifier.key for identifier in profile.identifiers}),
    }


class Before:
    """The read-model rows a batch's cluster had before it: what the batch may keep.

    A firm whose reports and last entry are as they were is unchanged, since entries
    only ever accrue: its rows stay, and its profile is not rebuilt. Only what changed
    is deleted and written, so a new report in a firm of hundreds of reports rewrites
    its firm's rows, not every membership of every view.
    """

    def __init__(
        self,
        memberships: set[tuple[Any, ...]],
        as_of: dict[tuple[str, UUID], int],
        overridden: set[tuple[Any, ...]],
        texts: dict[str, set[tuple[Any, ...]]],
    ) -> None:
        self.memberships, self.as_of, self.overridden = memberships, as_of, overridden
        self.texts = texts
        self.members: dict[tuple[str, UUID], set[UUID]] = {}
        for view, report, firm in memberships:
            self.members.setdefault((view, firm), set()).add(report)

    @classmethod
    def read(cls, cur: Cursor[Any], reports: list[UUID]) -> Before:
        cur.execute(
            "SELECT view, report_id, firm_id FROM memberships WHERE report_id = ANY(%b)",
            (reports,),
        )
        memberships = {tuple(row) for row in cur.fetchall()}
        firms = sorted({(view, firm) for view, _, firm in memberships})
        pairs = ([v for v, _ in firms], [f for _, f in firms])
        cur.execute(
            "SELECT f.view, f.firm_id, f.as_of_position FROM firms f "
            "JOIN unnest(%b::text[], %b::uuid[]) AS k(view, firm_id) "
            "ON f.view = k.view AND f.firm_id = k.firm_id",
            pairs,
        )
        as_of = {(view, firm): position for view, firm, position in cur.fetchall()}
        cur.execute(
            " UNION ALL ".join(
                f"SELECT '{table}', t.view, t.firm_id, t.{column} FROM {table} t "
                "JOIN unnest(%b::text[], %b::uuid[]) AS k(view, firm_id) "
                "ON t.view = k.view AND t.firm_id = k.firm_id"
                for table, column in FIRM_TEXTS.items()
            ),
            pairs * len(FIRM_TEXTS),
        )
        texts: dict[str, set[tuple[Any, ...]]] = {table: set() for table in FIRM_TEXTS}
        for table, *row in cur.fetchall():
            texts[table].add(tuple(row))
        # Firm ids are report ids: every partner firm of the cluster is one of its reports.
        cur.execute("SELECT view, firm_id FROM overridden WHERE firm_id = ANY(%b)", (reports,))
        return cls(memberships, as_of, {tuple(row) for row in cur.fetchall()}, texts)

    def unchanged(self, view: str, firm_id: UUID, members: set[UUID], last: int) -> bool:
        key = (view, firm_id)
        return self.as_of.get(key) == last and self.members.get(key) == members


@dataclass
class Rows:
    """Read-model rows of a batch, written together: only what differs from ``before``
    (by default, an empty generation)."""

    before: Before = field(
        default_factory=lambda: Before(set(), {}, set(), {t: set() for t in FIRM_TEXTS})
    )
    memberships: list[tuple[Any, ...]] = field(default_factory=list)
    firms: list[tuple[Any, ...]] = field(default_factory=list)
    texts: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {table: [] for table in FIRM_TEXTS}
    )
    words: list[tuple[str, UUID, str, int]] = field(default_factory=list)
    overridden: list[tuple[Any, ...]] = field(default_factory=list)
    kept: set[tuple[str, UUID]] = field(default_factory=set)
    # Where the profiles written are remembered (the live projector's), if anywhere.
    written: WrittenProfiles | None = None
    rendered: dict[tuple[str, UUID], tuple[Profile, int]] = field(default_factory=dict)

    def add_firm(self, view: str, profile: Profile) -> None:
        """A firm's row in ``view``, with its profile stored; its names, their words, and
        its identifier keys."""
        firm, rank = profile.firm_id, LEVELS.index(profile.risk.level)
        stored = packed(profile)
        if self.written is not None:
            self.rendered[view, firm] = profile, len(stored)
        self.firms.append(
            (
                view,
                firm,
                profile.display_name,
                profile.country,
                profile.risk.level,
                rank,
                profile.risk.score,
                profile.organisations,
                stored,
                profile.as_of_position,
            )
        )
        texts = firm_texts(profile)
        for table, found in texts.items():
            self.texts[table] += [(view, firm, text) for text in found]
        self.words += [(view, firm, w, rank) for w in words.words_of(texts["firm_names"])]

    def remember(self, stale: Sequence[tuple[str, UUID]] = ()) -> None:
        """The profiles rendered, remembered as written (where the projector remembers);
        those of the ``stale`` firms, whose rows go, forgotten."""
        if self.written is not None:
            self.written.forget(stale)
            for key, (profile, size) in self.rendered.items():
                self.written.put(key, profile, size)

    def write(self, cur: Cursor[Any], *, count_words: bool = True) -> None:
        """Write the rows; without ``count_words`` the vocabulary waits for ``words.count_all``."""
        held = self.before.memberships
        if held:
            memberships = set(self.memberships)
            gone = [(v, r) for v, r, _ in held - memberships]
            _delete_pairs(cur, "memberships", "report_id", gone)
            new = [m for m in memberships if m not in held]
        else:  # an empty generation, or reports no firm held: each membership is new, once
            new = self.memberships
        copy_rows(cur, MEMBERSHIPS, new)
        stale = sorted(set(self.before.as_of) - self.kept)
        _delete_pairs(cur, "firms", "firm_id", stale)
        self.remember(stale)
        copy_rows(cur, FIRMS, self.firms)
        # A firm's names and keys mostly stay when it changes: only those that come or go
        # are written.
        for table, column in FIRM_TEXTS.items():
            before, now = self.before.texts[table], set(self.texts[table])
            gone = [t for t in before if (t[0], t[1]) not in self.kept and t not in now]
            if gone:
                cur.execute(
                    f"DELETE FROM {table} t USING unnest(%b::text[], %b::uuid[], %b::text[]) "
                    f"AS n(view, firm_id, text) WHERE t.view = n.view "
                    f"AND t.firm_id = n.firm_id AND t.{column} = n.text",
                    tuple(list(values) for values in zip(*gone, strict=True)),
                )
            copy_rows(
                cur,
                f"{table} (view, firm_id, {column})",
                [t for t in self.texts[table] if t not in before],
            )
        words.write(cur, stale, self.words, count=count_words)
        overridden = set(self.overridden)
        _delete_pairs(cur, "overridden", "firm_id", sorted(self.before.overridden - overridden))
        copy_rows(cur, "overridden (view, firm_id)", sorted(overridden - self.before.overridden))


def _delete_pairs(
    cur: Cursor[Any], table: str, column: str, pairs: Sequence[tuple[Any, ...]]
) -> None:
    """Delete the rows of ``table`` whose (view, ``column``) is one of ``pairs``."""
    if pairs:
        cur.execute(
            f"DELETE FROM {table} t USING unnest(%b::text[], %b::uuid[]) AS p(view, id) "
            f"WHERE t.view = p.view AND t.{column} = p.id",
            ([p[0] for p in pairs], [p[1] for p in pairs]),
        )
