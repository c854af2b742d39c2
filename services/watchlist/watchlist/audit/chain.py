"""The hash chain over the event log, and its signed checkpoints. Pure: no database.

For each stored event, in log order::

    h_n = SHA-256(h_(n-1) || position || originator id || version || topic || state)

with ``h_0`` 32 zero bytes, ``position`` and ``version`` as 8-byte big-endian
integers, the originator id as its 16 bytes, and ``topic`` (UTF-8) and
``state`` (the stored bytes, exactly) each preceded by its length as a 4-byte
big-endian integer, so that no two different events can run together into
the same input.

A checkpoint signs, with Ed25519, the text
``watchlist-checkpoint-v1:<position>:<hash hex>`` and so vouches for the whole
log up to that position. This module is all an external auditor needs beside
an export file and the public key: see ``watchlist.audit.verify``.
"""

from __future__ import annotations

import hashlib
import struct
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = bytes(32)


def link(
    previous: bytes, position: int, originator_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    topic_bytes = topic.encode()
    digest = hashlib.sha256(previous)
    digest.update(struct.pack(">q", position))
    digest.update(originator_id.bytes)
    digest.update(struct.pack(">q", version))
    digest.update(struct.pack(">I", len(topic_bytes)) + topic_bytes)
    digest.update(struct.pack(">I", len(state)))
    digest.update(state)
    return digest.digest()


def checkpoint_message(position: int, chain_hash: bytes) -> bytes:
    return f"watchlist-checkpoint-v1:{position}:{chain_hash.hex()}".encode()


def sign(key: Ed25519PrivateKey, position: int, chain_hash: bytes) -> bytes:
    return key.sign(checkpoint_message(position, chain_hash))


def signature_holds(
    public_key: Ed25519PublicKey, position: int, chain_hash: bytes, signature: bytes
) -> bool:
    try:
        public_key.verify(signature, checkpoint_message(position, chain_hash))
    except InvalidSignature:
        return False
    return True
