"""Event and aggregate bases shared by every aggregate.

Events are frozen msgspec Structs: keyword-only, past tense, with defaults for
every field added after release. An event's class path is its stored topic,
so it is permanent. Aggregates record new events and apply them to
themselves; the eventsourcing ``Application`` saves what they collect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from uuid import UUID

import msgspec

from watchlist.domain.errors import DomainError


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A fact about one aggregate, at one version, at one time."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime

    aggregate_class: ClassVar[type[Aggregate]]

    def mutate(self, aggregate: Any) -> Any:
        """Apply this event to ``aggregate`` (``None`` for the first event)."""
        if aggregate is None:
            aggregate = self.aggregate_class.blank(self.originator_id)
        if self.originator_version != aggregate.version + 1:
            msg = (
                f"event version {self.originator_version} does not follow "
                f"{aggregate.version} of {self.originator_id}"
            )
            raise DomainError(msg)
        aggregate.apply(self)
        aggregate.version = self.originator_version
        aggregate.modified_on = self.timestamp
        return aggregate


class Aggregate:
    """An event-sourced aggregate: state is the fold of its events."""

    def __init__(self, id: UUID) -> None:
        self.id = id
        self.version = 0
        self.created_on: datetime | None = None
        self.modified_on: datetime | None = None
        self._pending: list[DomainEvent] = []

    @classmethod
    def blank(cls, id: UUID) -> Self:
        return cls.__new__(cls)._init_blank(id)

    def _init_blank(self, id: UUID) -> Self:
        Aggregate.__init__(self, id)
        return self

    def apply(self, event: DomainEvent) -> None:
        raise NotImplementedError

    def trigger(self, event_class: type[DomainEvent], **fields: Any) -> DomainEvent:
        event = event_class(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=datetime.now(UTC),
            **fields,
        )
        event.mutate(self)
        if self.created_on is None:
            self.created_on = event.timestamp
        self._pending.append(event)
        return event

    def collect_events(self) -> list[DomainEvent]:
        events, self._pending = self._pending, []
        return events

    def __getstate__(self) -> dict[str, Any]:
        # The repository deep-copies cached aggregates; pending events never travel.
        state = dict(self.__dict__)
        state["_pending"] = []
        return state
