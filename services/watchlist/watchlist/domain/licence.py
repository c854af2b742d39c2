"""Licence checks: what a registry said about a firm's licence, on a given day.

A check is a fact about a firm, recorded by an investigator; each is an
aggregate of its own, like the decisions about firms.
"""

from __future__ import annotations

from uuid import UUID

from watchlist.domain.base import Aggregate, DomainEvent
from watchlist.domain.contract import LicenceCheck


class LicenceCheckRecorded(DomainEvent, frozen=True, kw_only=True):
    organisation_id: UUID
    key_id: UUID
    firm_id: UUID
    check: LicenceCheck


class LicenceCheckRecord(Aggregate):
    firm_id: UUID
    check: LicenceCheck

    @classmethod
    def record(
        cls,
        *,
        id: UUID,
        organisation_id: UUID,
        key_id: UUID,
        firm_id: UUID,
        check: LicenceCheck,
    ) -> LicenceCheckRecord:
        record = cls.blank(id)
        record.trigger(
            LicenceCheckRecorded,
            organisation_id=organisation_id,
            key_id=key_id,
            firm_id=firm_id,
            check=check,
        )
        return record

    def apply(self, event: DomainEvent) -> None:
        if not isinstance(event, LicenceCheckRecorded):
            raise TypeError(f"a licence check cannot apply {type(event).__name__}")
        self.firm_id, self.check = event.firm_id, event.check


LicenceCheckRecorded.aggregate_class = LicenceCheckRecord
