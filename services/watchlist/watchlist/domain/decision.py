"""Investigators' decisions about firms: reasoned judgements, recorded as events.

Firms are conclusions the projector draws from reports; a decision links two
firms into one, or keeps two apart even when their identifiers would join
them. Each decision is an aggregate of its own, so decisions never contend.
Firm ids are the ids of the firms' earliest reports.
"""

from __future__ import annotations

from uuid import UUID

from watchlist.domain.base import Aggregate, DomainEvent


class FirmDecisionEvent(DomainEvent, frozen=True, kw_only=True):
    organisation_id: UUID
    key_id: UUID
    firm_a: UUID
    firm_b: UUID
    reason: str


class FirmsLinked(FirmDecisionEvent, frozen=True, kw_only=True):
    """Two firms are one recruiter."""


class FirmsSeparated(FirmDecisionEvent, frozen=True, kw_only=True):
    """Two firms are different recruiters, whatever their identifiers say."""


class FirmDecision(Aggregate):
    kind: str
    firm_a: UUID
    firm_b: UUID

    @classmethod
    def record(
        cls,
        event_class: type[FirmDecisionEvent],
        *,
        id: UUID,
        organisation_id: UUID,
        key_id: UUID,
        firm_a: UUID,
        firm_b: UUID,
        reason: str,
    ) -> FirmDecision:
        decision = cls.blank(id)
        decision.trigger(
            event_class,
            organisation_id=organisation_id,
            key_id=key_id,
            firm_a=firm_a,
            firm_b=firm_b,
            reason=reason,
        )
        return decision

    def apply(self, event: DomainEvent) -> None:
        if not isinstance(event, FirmDecisionEvent):
            raise TypeError(f"a decision cannot apply {type(event).__name__}")
        self.kind = "link" if isinstance(event, FirmsLinked) else "separation"
        self.firm_a, self.firm_b = event.firm_a, event.firm_b


FirmDecisionEvent.aggregate_class = FirmDecision
