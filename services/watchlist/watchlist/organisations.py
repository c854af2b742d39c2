"""Organisations and their API keys: only a key's hash is ever stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from watchlist.app_base import WatchlistBase
from watchlist.domain.errors import (
    ApiKeyNotFound,
    FieldError,
    InvalidInput,
    NotPermitted,
    OrganisationNotFound,
)
from watchlist.domain.organisation import Organisation, Role
from watchlist.views import (
    IssuedKey,
    Principal,
)

KEY_PREFIX = "wl"


class OrganisationCommands(WatchlistBase):
    def register_organisation(self, name: str, country: str | None = None) -> UUID:
        name = name.strip()
        if not name:
            raise InvalidInput([FieldError("$.name", "must not be blank")])
        organisation = Organisation.register(id=uuid4(), name=name, country=country)
        self.save(organisation)
        return organisation.id

    def issue_key(self, organisation_id: UUID, role: Role) -> IssuedKey:
        organisation = self._organisation(organisation_id)
        key_id, secret = uuid4(), secrets.token_urlsafe(32)
        key_hash = _hash_secret(secret)
        organisation.issue_key(key_id=key_id, role=role, key_hash=key_hash)
        self.save(
            organisation,
            writes=[
                (
                    "INSERT INTO watchlist_api_keys "
                    "(key_id, organisation_id, role, key_hash, issued_at) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (key_id, organisation_id, role, key_hash, datetime.now(UTC)),
                )
            ],
        )
        return IssuedKey(
            key=f"{KEY_PREFIX}_{key_id.hex}_{secret}",
            key_id=key_id,
            role=role,
            organisation_id=organisation_id,
        )

    def revoke_key(self, key_id: UUID, reason: str = "") -> UUID:
        rows = self._sql(
            "SELECT organisation_id FROM watchlist_api_keys WHERE key_id = %s", (key_id,)
        )
        if not rows:
            raise ApiKeyNotFound(f"no API key {key_id}")
        organisation = self._organisation(rows[0]["organisation_id"])
        organisation.revoke_key(key_id=key_id, reason=reason)
        self.save(
            organisation,
            writes=[
                (
                    "UPDATE watchlist_api_keys SET revoked_at = %s "
                    "WHERE key_id = %s AND revoked_at IS NULL",
                    (datetime.now(UTC), key_id),
                )
            ],
        )
        return organisation.id

    def authenticate(self, token: str) -> Principal | None:
        """The principal a bearer key stands for, or ``None`` for any bad or revoked key."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        try:
            key_id = UUID(hex=parts[1])
        except ValueError:
            return None
        rows = self._sql(
            "SELECT organisation_id, role, key_hash FROM watchlist_api_keys "
            "WHERE key_id = %s AND revoked_at IS NULL",
            (key_id,),
        )
        if not rows or not hmac.compare_digest(bytes(rows[0]["key_hash"]), _hash_secret(parts[2])):
            return None
        return Principal(
            organisation_id=rows[0]["organisation_id"], key_id=key_id, role=rows[0]["role"]
        )

    def importing_principal(self, organisation_id: UUID, key_id: UUID | None) -> Principal:
        """Whom a bulk import acts as: one of the organisation's active reporter or admin keys
        (the newest, unless one is named), so its reports carry a real key like any other."""
        self._organisation(organisation_id)
        rows = self._sql(
            "SELECT key_id, role FROM watchlist_api_keys WHERE organisation_id = %s "
            "AND revoked_at IS NULL AND role IN ('reporter', 'admin') "
            "AND (%s::uuid IS NULL OR key_id = %s) ORDER BY issued_at DESC LIMIT 1",
            (organisation_id, key_id, key_id),
        )
        if not rows:
            named = f"key {key_id} is not" if key_id else "no key is"
            raise NotPermitted(
                f"{named} an active reporter or admin key of organisation {organisation_id}; "
                "issue one with `watchlist key issue`"
            )
        return Principal(
            organisation_id=organisation_id, key_id=rows[0]["key_id"], role=rows[0]["role"]
        )

    def key_principal(self, key_id: UUID) -> Principal | None:
        """The principal of a key still in force, by its id; ``None`` once it is revoked."""
        rows = self._sql(
            "SELECT organisation_id, role FROM watchlist_api_keys "
            "WHERE key_id = %s AND revoked_at IS NULL",
            (key_id,),
        )
        if not rows:
            return None
        return Principal(
            organisation_id=rows[0]["organisation_id"], key_id=key_id, role=rows[0]["role"]
        )

    def organisation_count(self) -> int:
        return int(
            self._sql("SELECT count(DISTINCT organisation_id) AS n FROM watchlist_api_keys")[0]["n"]
        )

    def _organisation(self, organisation_id: UUID) -> Organisation:
        try:
            organisation: Organisation = self.repository.get(organisation_id)
        except AggregateNotFoundError:
            raise OrganisationNotFound(f"no organisation {organisation_id}") from None
        return organisation


def _hash_secret(secret: str) -> bytes:
    # Keys are 256 random bits: a fast hash is enough, no password stretching needed.
    return hashlib.sha256(secret.encode()).digest()
