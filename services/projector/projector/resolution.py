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
    def __init__(self, reports: Iterable[UUID], separations: Iterable[tuple[UUID, UUID]]) -> None:
        self.parent = {r: r for r in reports}
        self.members = {r: {r} for r in self.parent}
        self.apart: dict[UUID, set[UUID]] = defaultdict(set)
        for a, b in separations:
            if a in self.parent and b in self.parent:
                self.apart[a].add(b)
                self.apart[b].add(a)

    def find(self, r: UUID) -> UUID:
        root = r
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[r] != root:
            self.parent[r], r = root, self.parent[r]
        return root

    def union(self, a: UUID, b: UUID) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        small, large = sorted((ra, rb), key=lambda x: len(self.members[x]))
        if any(self.apart[x] & self.members[large] for x in self.members[small]):
            return  # an investigator separated these firms
        self.parent[small] = large
        self.members[large] |= self.members.pop(small)


def resolve(
    reports: Sequence[tuple[UUID, int]],
    keys: Mapping[UUID, Iterable[str]],
    links: Sequence[tuple[UUID, UUID]],
    separations: Sequence[tuple[UUID, UUID]],
) -> dict[UUID, UUID]:
    """Map each report to its firm id: the id of the firm's earliest report.

    ``reports`` are (report id, first log position); ``links`` and
    ``separations`` are pairs of report ids in decision order.
    """
    order = dict(reports)
    components = _Components(order, separations)
    for a, b in links:
        if a in order and b in order:
            components.union(a, b)
    first_holder: dict[str, UUID] = {}
    for report in sorted(order, key=order.__getitem__):
        for key in sorted(keys.get(report, ())):
            holder = first_holder.setdefault(key, report)
            if holder != report:
                components.union(holder, report)
    firm_of_root = {
        root: min(members, key=order.__getitem__) for root, members in components.members.items()
    }
    return {r: firm_of_root[components.find(r)] for r in order}
