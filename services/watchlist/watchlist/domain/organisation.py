"""The Organisation aggregate: a member of the watchlist and its API keys.

Only a key's hash is ever recorded; the key itself is shown once, when issued.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

from watchlist.domain.base import Aggregate, DomainEvent
from watchlist.domain.errors import ApiKeyNotFound

Role = Literal["reporter", "investigator", "auditor", "admin"]
ROLES: tuple[Role, ...] = ("reporter", "investigator", "auditor", "admin")


class ApiKey(msgspec.Struct, kw_only=True):
    key_id: UUID
    role: Role
    key_hash: bytes
    revoked: bool = False


class OrganisationEvent(DomainEvent, frozen=True, kw_only=True):
    pass


class OrganisationRegistered(OrganisationEvent, frozen=True, kw_only=True):
    name: str
    country: str | None = None


class ApiKeyIssued(OrganisationEvent, frozen=True, kw_only=True):
    key_id: UUID
    role: Role
    key_hash: bytes


class ApiKeyRevoked(OrganisationEvent, frozen=True, kw_only=True):
    key_id: UUID
    reason: str = ""


class Organisation(Aggregate):
    """A partner organisation: a hotline, a legal-aid centre, an NGO."""

    name: str
    country: str | None
    keys: dict[UUID, ApiKey]

    @classmethod
    def register(cls, *, id: UUID, name: str, country: str | None) -> Organisation:
        organisation = cls.blank(id)
        organisation.trigger(OrganisationRegistered, name=name, country=country)
        return organisation

    def issue_key(self, *, key_id: UUID, role: Role, key_hash: bytes) -> None:
        self.trigger(ApiKeyIssued, key_id=key_id, role=role, key_hash=key_hash)

    def revoke_key(self, *, key_id: UUID, reason: str = "") -> None:
        key = self.keys.get(key_id)
        if key is None:
            raise ApiKeyNotFound(f"no key {key_id} in organisation {self.id}")
        if not key.revoked:
            self.trigger(ApiKeyRevoked, key_id=key_id, reason=reason)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case OrganisationRegistered():
                self.name = event.name
                self.country = event.country
                self.keys = {}
            case ApiKeyIssued():
                self.keys[event.key_id] = ApiKey(
                    key_id=event.key_id, role=event.role, key_hash=event.key_hash
                )
            case ApiKeyRevoked():
                self.keys[event.key_id].revoked = True
            case _:
                raise TypeError(f"an organisation cannot apply {type(event).__name__}")


OrganisationEvent.aggregate_class = Organisation
