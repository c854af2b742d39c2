"""Settings, read once from the environment into a typed object passed down."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".watchlist")
    database_url: str | None = None
    master_key: bytes | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 256 * 1024
    pool_size: int = 4
    pool_overflow: int = 8

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            data_dir=Path(env.get("WATCHLIST_DATA_DIR") or ".watchlist"),
            database_url=env.get("WATCHLIST_DATABASE_URL") or None,
            master_key=_master_key(env.get("WATCHLIST_MASTER_KEY")),
            host=env.get("WATCHLIST_HOST") or "127.0.0.1",
            port=_int(env, "WATCHLIST_PORT", 8000),
            pool_size=_int(env, "WATCHLIST_DB_POOL_SIZE", 4),
        )
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def embedded(self) -> bool:
        return self.database_url is None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def _master_key(raw: str | None) -> bytes | None:
    if not raw:
        return None
    try:
        key = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise SettingsError("WATCHLIST_MASTER_KEY must be base64") from None
    if len(key) != 32:
        raise SettingsError("WATCHLIST_MASTER_KEY must decode to 32 bytes (AES-256)")
    return key
