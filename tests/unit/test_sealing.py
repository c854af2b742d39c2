"""Sealed confidential parts open only with their own report's key."""

from __future__ import annotations

from uuid import uuid4

import msgspec
import pytest

from watchlist import sealing
from watchlist.domain.contract import Confidential

PART = Confidential(caller_name="A. K.", caller_phone="+77011234567", notes="calls back evenings")


def test_sealed_part_opens_with_its_key_and_hides_the_plaintext():
    report_id, key = uuid4(), sealing.new_data_key()

    sealed = sealing.seal(key, report_id, PART)

    assert b"calls back" not in msgspec.json.encode(sealed)
    assert sealing.unseal(key, report_id, sealed) == PART


def test_another_key_or_another_report_cannot_open_it():
    report_id, key = uuid4(), sealing.new_data_key()
    sealed = sealing.seal(key, report_id, PART)

    with pytest.raises(sealing.SealError):
        sealing.unseal(sealing.new_data_key(), report_id, sealed)
    with pytest.raises(sealing.SealError):
        sealing.unseal(key, uuid4(), sealed)


def test_altered_ciphertext_is_detected():
    report_id, key = uuid4(), sealing.new_data_key()
    sealed = sealing.seal(key, report_id, PART)
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]

    with pytest.raises(sealing.SealError):
        sealing.unseal(key, report_id, msgspec.structs.replace(sealed, ciphertext=flipped))


def test_data_key_is_wrapped_by_the_master_key_for_one_report():
    master, report_id, data_key = sealing.new_data_key(), uuid4(), sealing.new_data_key()

    wrapped = sealing.wrap_key(master, report_id, data_key)

    assert data_key not in wrapped
    assert sealing.unwrap_key(master, report_id, wrapped) == data_key
    with pytest.raises(sealing.SealError):
        sealing.unwrap_key(master, uuid4(), wrapped)
