"""A named firm's reply: its answer on the record, and the reports it disputes."""

from __future__ import annotations

from uuid import UUID

from watchlist.domain.base import Aggregate, DomainEvent
from watchlist.domain.contract import Reply


class ReplyFiled(DomainEvent, frozen=True, kw_only=True):
    organisation_id: UUID
    key_id: UUID
    firm_id: UUID
    reply: Reply


class FirmReply(Aggregate):
    firm_id: UUID
    reply: Reply

    @classmethod
    def file(
        cls,
        *,
        id: UUID,
        organisation_id: UUID,
        key_id: UUID,
        firm_id: UUID,
        reply: Reply,
    ) -> FirmReply:
        record = cls.blank(id)
        record.trigger(
            ReplyFiled, organisation_id=organisation_id, key_id=key_id, firm_id=firm_id, reply=reply
        )
        return record

    def apply(self, event: DomainEvent) -> None:
        if not isinstance(event, ReplyFiled):
            raise TypeError(f"a reply cannot apply {type(event).__name__}")
        self.firm_id, self.reply = event.firm_id, event.reply


ReplyFiled.aggregate_class = FirmReply
