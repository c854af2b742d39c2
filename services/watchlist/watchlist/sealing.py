"""Sealing confidential parts: envelope encryption with AES-256-GCM.

Each report gets its own data key. The data key is stored outside the event
log, wrapped (encrypted) by the master key. Destroying a report's data key
makes every sealed version of its confidential part unreadable for good
(crypto-shredding), while the events themselves stay untouched.
"""

from __future__ import annotations

import os
from functools import lru_cache
from uuid import UUID

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from watchlist.domain.contract import Confidential
from watchlist.domain.report import SealedConfidential

NONCE_BYTES = 12


class SealError(Exception):
    """A sealed part could not be opened: wrong key, or the data was altered."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


@lru_cache(maxsize=4)
def _cipher(key: bytes) -> AESGCM:
    """The master key's cipher, made once: wrapping a key is cheaper than making one."""
    return AESGCM(key)


def wrap_key(master_key: bytes, report_id: UUID, data_key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher(master_key).encrypt(nonce, data_key, b"data-key:" + report_id.bytes)


def unwrap_key(master_key: bytes, report_id: UUID, wrapped: bytes) -> bytes:
    nonce, ciphertext = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
    try:
        return _cipher(master_key).decrypt(nonce, ciphertext, b"data-key:" + report_id.bytes)
    except InvalidTag:
        raise SealError(f"the data key of report {report_id} does not open") from None


def seal(data_key: bytes, report_id: UUID, part: Confidential) -> SealedConfidential:
    nonce = os.urandom(NONCE_BYTES)
    plaintext = msgspec.json.encode(part)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, report_id.bytes)
    return SealedConfidential(nonce=nonce, ciphertext=ciphertext)


def unseal(data_key: bytes, report_id: UUID, sealed: SealedConfidential) -> Confidential:
    try:
        plaintext = AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, report_id.bytes)
    except InvalidTag:
        raise SealError(f"the confidential part of report {report_id} does not open") from None
    return msgspec.json.decode(plaintext, type=Confidential)
