"""The Watchlist application: commands as verbs, returning ids and plain values.

``save()`` is the unit of work: the events and the write side's own rows
(see ``watchlist.persistence``) commit in one transaction.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID, uuid4

from watchlist import access
from watchlist.domain.contract import LicenceCheck, latest_allowed_date
from watchlist.domain.decision import (
    FirmDecision,
    FirmDecisionEvent,
    FirmsLinked,
    FirmsSeparated,
)
from watchlist.domain.errors import (
    FieldError,
    InvalidInput,
)
from watchlist.domain.licence import LicenceCheckRecord
from watchlist.organisations import OrganisationCommands
from watchlist.reports import ReportCommands
from watchlist.views import (
    Principal,
    Recorded,
)


class Watchlist(ReportCommands, OrganisationCommands):
    """The application's commands; ``save()`` writes events and write-side rows at once."""

    name = "Watchlist"

    # The access log

    def record_accesses(self, entries: Sequence[access.Access]) -> list[None]:
        """Append entries to the access log in one statement (the API's group commit)."""
        statement, params = access.insert(entries)
        self._sql(statement, params)
        return [None] * len(entries)

    def access_log(
        self,
        *,
        organisation: UUID | None = None,
        firm: UUID | None = None,
        report: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> access.AccessPage:
        statement, params = access.query(organisation, firm, report, since, until, cursor, limit)
        return access.page(self._sql(statement, params), limit)

    # Decisions about firms

    def link_firms(self, principal: Principal, firm_a: UUID, firm_b: UUID, reason: str) -> Recorded:
        return self._decide(FirmsLinked, principal, firm_a, firm_b, reason)

    def separate_firms(
        self, principal: Principal, firm_a: UUID, firm_b: UUID, reason: str
    ) -> Recorded:
        return self._decide(FirmsSeparated, principal, firm_a, firm_b, reason)

    def _decide(
        self,
        kind: type[FirmDecisionEvent],
        principal: Principal,
        firm_a: UUID,
        firm_b: UUID,
        reason: str,
    ) -> Recorded:
        if firm_a == firm_b:
            raise InvalidInput([FieldError("$.firm_ids", "name two different firms")])
        decision = FirmDecision.record(
            kind,
            id=uuid4(),
            organisation_id=principal.organisation_id,
            key_id=principal.key_id,
            firm_a=firm_a,
            firm_b=firm_b,
            reason=reason,
        )
        recordings = self.save(decision)
        return Recorded(id=decision.id, version=1, position=recordings[-1].notification.id)

    # Licence checks

    def record_licence_check(
        self, principal: Principal, firm_id: UUID, check: LicenceCheck
    ) -> Recorded:
        if check.checked_on > latest_allowed_date():
            raise InvalidInput([FieldError("$.checked_on", "is in the future")])
        record = LicenceCheckRecord.record(
            id=uuid4(),
            organisation_id=principal.organisation_id,
            key_id=principal.key_id,
            firm_id=firm_id,
            check=check,
        )
        recordings = self.save(record)
        return Recorded(id=record.id, version=1, position=recordings[-1].notification.id)

    # The public check

    def client_hash(self, client_address: str) -> str:
        """A keyed hash of a public client's address: counts repeat visitors, names no one."""
        key = hashlib.sha256(b"public-check-client:" + self._master_key).digest()
        return hmac.new(key, client_address.encode(), hashlib.sha256).hexdigest()[:32]

    def derived_secret(self, purpose: str) -> bytes:
        """32 bytes for one purpose (the console's session cookie, its CSRF tokens), derived
        from the master key: nothing new to keep, and each purpose's secret stands apart."""
        return hmac.new(
            self._master_key, b"watchlist-secret:" + purpose.encode(), "sha256"
        ).digest()
