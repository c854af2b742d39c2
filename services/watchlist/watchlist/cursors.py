"""Opaque cursors for keyset and offset pagination: one encoding for every list the API serves."""

from __future__ import annotations

import base64

from watchlist.domain.errors import FieldError, InvalidInput


def encode(value: int | str) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode(cursor: str) -> str:
    """The text inside a cursor; a cursor the API never gave out is invalid input."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid() from None


_LARGEST = 2**63 - 1


def decode_int(cursor: str | None, default: int) -> int:
    if not cursor:
        return default
    try:
        value = int(decode(cursor))
    except ValueError:
        raise invalid() from None
    if not 0 <= value <= _LARGEST:  # an offset or a log position: PostgreSQL's bigint
        raise invalid()
    return value


def invalid() -> InvalidInput:
    return InvalidInput([FieldError("$.cursor", "not a cursor this API gave out")])
