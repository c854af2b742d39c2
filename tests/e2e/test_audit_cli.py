"""An auditor's commands: export the log, verify it offline with the key alone, replay it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import SIGNING_SEED, example_report
from projector.chain import public_key_bytes

WATCHLIST = str(Path(sys.executable).with_name("watchlist"))
PUBLIC = base64.b64encode(public_key_bytes(Ed25519PrivateKey.from_private_bytes(SIGNING_SEED)))


def _env(database, master_key):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHLIST_")}
    return env | {
        "WATCHLIST_DATABASE_URL": database.url,
        "WATCHLIST_MASTER_KEY": base64.b64encode(master_key).decode(),
    }


def _run(env, *args):
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_export_then_verify_offline_then_replay(client, member, database, master_key, tmp_path):
    client.post("/v1/reports", json=example_report(), headers=member.headers())
    env, out = _env(database, master_key), tmp_path / "log.ndjson"

    exported = _run(env, WATCHLIST, "audit", "export", "--out", str(out))
    # Offline: the file and the public key, and a module that needs no database.
    offline = _run(
        {"PATH": os.environ["PATH"]},
        sys.executable,
        "-m",
        "watchlist.audit.verify",
        "--file",
        str(out),
        "--public-key",
        PUBLIC.decode(),
    )
    in_database = _run(env, WATCHLIST, "audit", "verify", "--public-key", PUBLIC.decode())
    replayed = _run(env, WATCHLIST, "audit", "replay")

    assert exported.returncode == 0, exported.stderr
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert offline.stdout.startswith("OK: ")
    assert in_database.returncode == 0, in_database.stdout
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert replayed.stdout.startswith("identical at position")

    lines = out.read_text().splitlines()
    events = [i for i, line in enumerate(lines) if line.startswith('{"type": "event"')]
    removed = json.loads(lines.pop(events[3]))["position"]  # an event removed from the file
    following = json.loads(lines[events[4] - 1])["position"]
    out.write_text("\n".join(lines) + "\n")
    broken = _run(
        env, WATCHLIST, "audit", "verify", "--file", str(out), "--public-key", PUBLIC.decode()
    )
    assert broken.returncode == 1
    # Named where the gap shows: at a checkpoint over the removed event, or the event after it.
    assert broken.stdout.startswith(
        (f"FAILED at position {removed}: missing", f"FAILED at position {following}: missing")
    )
