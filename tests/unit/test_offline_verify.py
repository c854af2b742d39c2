"""The offline verifier, given an export an auditor may have received damaged: every
damaged line is a verdict naming that line, never a traceback."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from watchlist.audit import chain
from watchlist.audit.verify import main, verify_lines

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = base64.b64encode(KEY.public_key().public_bytes_raw()).decode()


def export(events: int = 3) -> list[str]:
    """A chained log of ``events`` events, with a signed checkpoint after the last, as
    ``watchlist audit export`` writes it."""
    lines, previous = [], chain.GENESIS
    for position in range(1, events + 1):
        originator, state = uuid.UUID(int=position), f"state {position}".encode()
        hashed = chain.link(previous, position, originator, 1, "Report.Submitted", state)
        lines.append(
            json.dumps(
                {
                    "type": "event",
                    "position": position,
                    "topic": "Report.Submitted",
                    "originator_id": str(originator),
                    "version": 1,
                    "state": base64.b64encode(state).decode(),
                    "previous": previous.hex(),
                    "hash": hashed.hex(),
                }
            )
        )
        previous = hashed
    lines.append(
        json.dumps(
            {
                "type": "checkpoint",
                "position": events,
                "hash": previous.hex(),
                "signature": base64.b64encode(chain.sign(KEY, events, previous)).decode(),
            }
        )
    )
    return lines


def changed(lines: list[str], number: int, **fields: object) -> list[str]:
    line = json.loads(lines[number - 1]) | fields
    return [*lines[: number - 1], json.dumps(line), *lines[number:]]


def test_an_intact_export_verifies():
    verdict = verify_lines(export(), KEY.public_key())

    assert verdict.ok
    assert str(verdict) == "OK: 3 events chained, 1 signed checkpoints verified"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda lines: [*lines[:1], '{"type": "event", "position": 2', *lines[2:]], "not JSON"),
        (lambda lines: [*lines[:1], "[2, 3]", *lines[2:]], "not a JSON object"),
        (lambda lines: changed(lines, 2, position="two"), "position is not what"),
        (lambda lines: changed(lines, 2, previous="zz"), "previous is not what"),
        (lambda lines: changed(lines, 2, originator_id="nobody"), "originator_id is not what"),
        (lambda lines: changed(lines, 2, state="not base64!"), "state is not what"),
        (lambda lines: changed(lines, 2, type="note"), "type 'note' is neither"),
        (lambda lines: [*lines[:1], json.dumps({"type": "event"}), *lines[2:]], "no 'position'"),
        (lambda lines: [*lines[:1], b"\xff\xfe", *lines[2:]], "not JSON"),
    ],
    ids=[
        "cut",
        "array",
        "position",
        "previous",
        "originator",
        "state",
        "type",
        "missing",
        "bytes",
    ],
)
def test_a_damaged_line_fails_the_export_naming_the_line(damage, reason):
    verdict = verify_lines(damage(export()), KEY.public_key())

    assert not verdict.ok
    assert verdict.line == 2
    assert verdict.events == 1  # the line before it was verified
    assert str(verdict).startswith("FAILED at line 2: unreadable: ")
    assert reason in str(verdict)


def test_a_damaged_checkpoint_fails_the_export_naming_its_line():
    lines = export()
    verdict = verify_lines(changed(lines, 4, signature="%%%"), KEY.public_key())

    assert str(verdict).startswith("FAILED at line 4: unreadable: signature is not what")
    assert verdict.events == 3


def test_a_changed_event_still_names_its_position():
    verdict = verify_lines(changed(export(), 2, version=2), KEY.public_key())

    assert str(verdict) == "FAILED at position 2: changed: the event does not match its chain hash"


def test_the_command_names_a_damaged_line_and_a_key_that_is_not_one(tmp_path: Path, capsys):
    file = tmp_path / "export.ndjson"
    file.write_text("\n".join(changed(export(), 3, hash=None)) + "\n")

    assert main(["--file", str(file), "--public-key", PUBLIC]) == 1
    assert "FAILED at line 3: unreadable: hash is not what" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["--file", str(file), "--public-key", "not a key"])
    assert refused.value.code == 2
    assert "--public-key: the public key must be 32 bytes in base64" in capsys.readouterr().err
