"""Firm resolution: which reports describe the same recruiter.

Reports that share a match key (a normalised identifier, or a normalised name
in the same country) are one firm; investigators' links join firms and their
separations keep two firms apart even when keys would join them. The result
is a pure function of the reports' current keys and the decisions, computed
by a union-find that takes edges in a canonical order (links first, in
decision order; then keys, in report order), so the same log always gives
the same firms, whether built incrementally or replayed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID


class _Components:
    """Union-find over report numbers (their first log positions: small ints hash fast)."""

    def __init__(self, reports: Iterable[int], separations: Iterable[tuple[int, int]]) -> None:
        self.parent = {r: r for r in reports}
        self.members = {r: {r} for r in self.parent}
        self.apart: dict[int, set[int]] = defaultdict(set)
        for a, b in separations:
            if a in self.parent and b in self.parent:
                self.apart[a].add(b)
                self.apart[b].add(a)

    def find(self, r: int) -> int:
        root = r
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[r] != root:
            self.parent[r], r = root, self.parent[r]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        small, large = (ra, rb) if len(self.members[ra]) <= len(self.members[rb]) else (rb, ra)
        if self.apart and any(self.apart[x] & self.members[large] for x in self.members[small]):
            return  # an investigator separated these firms
        self.parent[small] = large
        self.members[large] |= self.members.pop(small)


def resolve(
    reports: Sequence[tuple[UUID, int]],
    keys: Mapping[UUID, Sequence[str]],
    links: Sequence[tuple[UUID, UUID]],
    separations: Sequence[tuple[UUID, UUID]],
) -> dict[UUID, UUID]:
    """Map each report to its firm id: the id of the firm's earliest report.

    ``reports`` are (report id, first log position); ``keys`` each report's match keys,
    sorted; ``links`` and ``separations`` are pairs of report ids in decision order.
    """
    number = dict(reports)
    report_of = {n: r for r, n in number.items()}

    def pairs(decisions: Sequence[tuple[UUID, UUID]]) -> list[tuple[int, int]]:
        return [(number[a], number[b]) for a, b in decisions if a in number and b in number]

    components = _Components(report_of, pairs(separations))
    for a, b in pairs(links):
        components.union(a, b)
    first_holder: dict[str, int] = {}
    for n in sorted(report_of):
        for key in keys.get(report_of[n], ()):
            holder = first_holder.setdefault(key, n)
            if holder != n:
                components.union(holder, n)
    # Report numbers are log positions, so the smallest is the earliest report.
    firm_of_root = {root: report_of[min(members)] for root, members in components.members.items()}
    return {report_of[n]: firm_of_root[components.find(n)] for n in report_of}
