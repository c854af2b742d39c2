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
    # How long the API trusts a key it has checked: a revoked key stops working within this.
    key_cache_seconds: float = 5.0
    signing_key: bytes | None = None
    checkpoint_every: int = 1000
    checkpoint_seconds: float = 60.0
    public_checks_per_minute: int = 30
    public_min_organisations: int = 2
    hotline_contact: str = (
        "Before you sign or pay anything, call your local anti-trafficking hotline."
    )
    # Browsers keep Secure cookies only over HTTPS and on localhost: turn off only to reach
    # the console over plain HTTP on another address (a trusted local network).
    console_secure_cookies: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            data_dir=Path(env.get("WATCHLIST_DATA_DIR") or ".watchlist"),
            database_url=env.get("WATCHLIST_DATABASE_URL") or None,
            master_key=_key32(env.get("WATCHLIST_MASTER_KEY"), "WATCHLIST_MASTER_KEY"),
            host=env.get("WATCHLIST_HOST") or "127.0.0.1",
            port=_int(env, "WATCHLIST_PORT", 8000),
            pool_size=_int(env, "WATCHLIST_DB_POOL_SIZE", 4),
            key_cache_seconds=float(_int(env, "WATCHLIST_KEY_CACHE_SECONDS", 5)),
            signing_key=_key32(env.get("WATCHLIST_SIGNING_KEY"), "WATCHLIST_SIGNING_KEY"),
            checkpoint_every=_int(env, "WATCHLIST_CHECKPOINT_EVERY", 1000),
            checkpoint_seconds=float(_int(env, "WATCHLIST_CHECKPOINT_SECONDS", 60)),
            public_checks_per_minute=_int(env, "WATCHLIST_PUBLIC_CHECKS_PER_MINUTE", 30),
            public_min_organisations=_int(env, "WATCHLIST_PUBLIC_MIN_ORGANISATIONS", 2),
            hotline_contact=env.get("WATCHLIST_HOTLINE_CONTACT") or cls.hotline_contact,
            console_secure_cookies=(env.get("WATCHLIST_CONSOLE_SECURE_COOKIES") or "true").lower()
            not in {"0", "false", "no", "off"},
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


def _key32(raw: str | None, name: str) -> bytes | None:
    if not raw:
        return None
    try:
        key = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise SettingsError(f"{name} must be base64") from None
    if len(key) != 32:
        raise SettingsError(f"{name} must decode to 32 bytes")
    return key
