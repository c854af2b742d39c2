"""Offline verification of an exported event log: a file and a public key, nothing else.

An external auditor runs::

    python -m watchlist.audit.verify --file watchlist-export.ndjson --public-key <base64>

Each line of the export is a JSON object. Events, in log order::

    {"type": "event", "position": 7, "time": "...", "topic": "...",
     "originator_id": "<uuid>", "version": 1, "state": "<base64 of the stored bytes>",
     "previous": "<hex of h_(n-1)>", "hash": "<hex of h_n>"}

and signed checkpoints, after the event whose position they carry::

    {"type": "checkpoint", "position": 1000, "hash": "<hex>",
     "signature": "<base64 Ed25519>", "public_key": "<base64>", "signed_at": "..."}

Verification recomputes every link of the chain (see ``watchlist.audit.chain``
for the exact bytes) and checks every checkpoint's signature with the public
key the auditor trusts, never the one inside the file. It names the first
position that fails and why.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from watchlist.audit import chain

T = TypeVar("T")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    events: int
    checkpoints: int
    position: int | None = None
    reason: str = ""
    line: int | None = None  # the export's line, where it could not be read at all

    def __str__(self) -> str:
        if self.ok:
            return (
                f"OK: {self.events} events chained, {self.checkpoints} signed checkpoints verified"
            )
        where = f"line {self.line}" if self.position is None else f"position {self.position}"
        return f"FAILED at {where}: {self.reason}"


def verify_lines(lines: Iterable[str | bytes], public_key: Ed25519PublicKey) -> Verdict:
    """Check an export line by line; the first line that breaks the chain, a checkpoint or
    the export's format fails it. A damaged file is a verdict, never a crash."""
    previous, last, events, checkpoints = chain.GENESIS, 0, 0, 0
    hashes: dict[int, bytes] = {}
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            if not isinstance(line, dict):
                raise ValueError("not a JSON object")
            kind, position = line["type"], _field(line, "position", int)
            if kind == "event":
                if position <= last:
                    return Verdict(
                        False,
                        events,
                        checkpoints,
                        position,
                        f"reordered: position {position} comes after {last}",
                    )
                if _field(line, "previous", bytes.fromhex) != previous:
                    return Verdict(
                        False,
                        events,
                        checkpoints,
                        position,
                        f"missing: events between {last} and {position} are gone",
                    )
                computed = chain.link(
                    previous,
                    position,
                    _field(line, "originator_id", UUID),
                    _field(line, "version", int),
                    line["topic"],
                    _field(line, "state", _base64),
                )
                if computed != _field(line, "hash", bytes.fromhex):
                    return Verdict(
                        False,
                        events,
                        checkpoints,
                        position,
                        "changed: the event does not match its chain hash",
                    )
                previous, last, events = computed, position, events + 1
                hashes[position] = computed
            elif kind == "checkpoint":
                if position not in hashes:
                    return Verdict(
                        False,
                        events,
                        checkpoints,
                        position,
                        "missing: the checkpoint's event is not in the log",
                    )
                failure = checkpoint_failure(line, hashes[position], public_key)
                if failure:
                    return Verdict(False, events, checkpoints, position, failure)
                checkpoints += 1
            else:
                raise ValueError(f"type {kind!r} is neither an event nor a checkpoint")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return Verdict(
                False, events, checkpoints, None, f"unreadable: {_unreadable(exc)}", number
            )
    return Verdict(True, events, checkpoints)


def _field(line: Mapping[str, Any], name: str, parse: Callable[[Any], T]) -> T:
    """``line[name]`` parsed; a ValueError naming the field if it does not parse."""
    value = line[name]
    try:
        return parse(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name} is not what an export holds there: {value!r:.60}") from None


def _base64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"the line has no {exc.args[0]!r} field"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg})"
    return str(exc) or type(exc).__name__


def checkpoint_failure(
    mark: Mapping[str, Any], computed: bytes, public_key: Ed25519PublicKey
) -> str | None:
    """Why a checkpoint does not vouch for the log whose hash at its position is ``computed``."""
    signed = _field(mark, "hash", bytes.fromhex)
    if signed != computed:
        return "changed: the log up to here differs from what was signed"
    signature = _field(mark, "signature", _base64)
    if not chain.signature_holds(public_key, int(mark["position"]), signed, signature):
        return "bad signature: the checkpoint was not signed by this key"
    return None


def load_public_key(text: str) -> Ed25519PublicKey:
    """A raw 32-byte Ed25519 public key, base64 (as ``GET /v1/audit/public-key`` gives it)."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError:  # binascii.Error is one
        raise ValueError(
            "the public key must be 32 bytes in base64, as GET /v1/audit/public-key gives it"
        ) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, required=True, help="an export (NDJSON)")
    parser.add_argument("--public-key", required=True, help="the signing key, base64")
    args = parser.parse_args(argv)
    try:
        key = load_public_key(args.public_key)
    except ValueError as exc:
        parser.error(f"--public-key: {exc}")
    with args.file.open("rb") as lines:
        verdict = verify_lines(lines, key)
    print(verdict)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
