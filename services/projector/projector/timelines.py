"""What firm profiles are made of: report states and the facts recorded about firms.

The live projector folds a report's timeline entries into its state once per
batch, whatever number of views show it, and remembers the states it folded
between batches.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from uuid import UUID

from projector.model import Entry, ReportState, fold


class Timelines:
    """Report states and the facts recorded about firms: what firm profiles are made of.

    A report's state is folded once, whatever number of views show it.
    """

    def __init__(self, states: dict[UUID, ReportState], facts: Iterable[Entry]) -> None:
        self.states = states
        self.facts_of: dict[UUID, list[Entry]] = {}
        for fact in facts:
            for firm in {fact.firm_a, fact.firm_b}:
                if firm is not None:
                    self.facts_of.setdefault(firm, []).append(fact)

    @classmethod
    def of_entries(
        cls, entries: list[Entry], known: Mapping[UUID, ReportState] | None = None
    ) -> Timelines:
        """From timeline entries, in log order, and the states of reports already folded
        (whose entries are not among ``entries``)."""
        return cls(fold(entries) | dict(known or {}), (e for e in entries if e.report_id is None))

    def of_firm(self, members: set[UUID]) -> tuple[list[ReportState], list[Entry]]:
        """The states of a firm's reports, and the facts naming any of them, in log order."""
        states = [self.states[m] for m in members]
        facts = {f.position: f for m in members for f in self.facts_of.get(m, ())}
        return states, [facts[p] for p in sorted(facts)]


class StateCache:
    """Report states the live projector has folded, remembered between batches.

    Timeline entries are facts of the log, so a report's state as of its last entry
    is the same in every batch, transaction and generation: a remembered state is
    good whenever its last position is the report's in the read models, and is
    folded again from the entries otherwise. Remembered states are never folded
    further (a change makes a new state), and the least recently used are forgotten.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._states: OrderedDict[UUID, ReportState] = OrderedDict()

    def get(self, report_id: UUID, last_position: int) -> ReportState | None:
        state = self._states.get(report_id)
        if state is None or state.last_position != last_position:
            return None
        self._states.move_to_end(report_id)
        return state

    def remember(self, states: Iterable[ReportState]) -> None:
        for state in states:
            self._states[state.report_id] = state
            self._states.move_to_end(state.report_id)
        while len(self._states) > self.size:
            self._states.popitem(last=False)
