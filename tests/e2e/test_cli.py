"""The real `watchlist` command: organisations and keys, then `up` serving over HTTP."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import SIGNING_SEED
from watchlist.api.examples import EXAMPLE_REPORT

WATCHLIST = str(Path(sys.executable).with_name("watchlist"))


@pytest.fixture
def cli_env(database: Any, master_key: bytes, tmp_path: Path) -> dict[str, str]:
    """The environment the commands run in: embedded by default, or the external server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHLIST_")}
    env["WATCHLIST_DATA_DIR"] = str(tmp_path / "data")
    if not database.embedded:
        env["WATCHLIST_DATABASE_URL"] = database.url
        env["WATCHLIST_MASTER_KEY"] = base64.b64encode(master_key).decode()
        env["WATCHLIST_SIGNING_KEY"] = base64.b64encode(SIGNING_SEED).decode()
    return env


def run(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(
        [WATCHLIST, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Up:
    """`watchlist up` in a subprocess, read line by line until it serves."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [WATCHLIST, "up", "--port", str(self.port), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                break
        else:
            raise AssertionError("\n".join(self.lines))
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/ready").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("the API never became ready")

    def demo_key(self) -> str | None:
        found = [line.split()[-1] for line in self.lines if "demo admin key" in line]
        return found[0] if found else None

    def stop(self, signum: int) -> tuple[int, str]:
        self.process.send_signal(signum)
        rest, _ = self.process.communicate(timeout=30)
        return self.process.returncode, rest


def test_org_and_key_commands_print_one_json_object(cli_env):
    organisation = run(cli_env, "org", "add", "Kyzylorda legal aid", "--country", "KZ", "--json")
    issued = run(cli_env, "key", "issue", organisation["id"], "--role", "reporter", "--json")
    revoked = run(cli_env, "key", "revoke", issued["key_id"], "--json")

    assert organisation["name"] == "Kyzylorda legal aid"
    assert issued["role"] == "reporter"
    assert issued["key"].startswith("wl_")
    assert revoked == {
        "key_id": issued["key_id"],
        "organisation_id": organisation["id"],
        "revoked": True,
    }


def test_bad_cli_input_is_refused_with_a_message(cli_env):
    done = subprocess.run(
        [WATCHLIST, "key", "issue", "not-a-uuid", "--role", "reporter"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    wrong_role = subprocess.run(
        [WATCHLIST, "key", "issue", "00000000-0000-4000-8000-000000000000", "--role", "boss"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "ORGANISATION_ID" in done.stderr
    assert wrong_role.returncode == 2
    assert "--role" in wrong_role.stderr


def test_up_serves_reports_and_stops_cleanly_on_sigterm(cli_env):
    organisation = run(cli_env, "org", "add", "Shymkent legal centre", "--json")
    reporter = run(cli_env, "key", "issue", organisation["id"], "--role", "reporter", "--json")

    up = Up(cli_env)
    try:
        demo_key = up.demo_key()
        assert demo_key is not None, up.lines
        submitted = httpx.post(
            f"{up.url}/v1/reports",
            json=EXAMPLE_REPORT,
            headers={"Authorization": f"Bearer {reporter['key']}"},
        )
        assert submitted.status_code == 201, submitted.text
        assert submitted.json()["projected"] is True, "up runs the projector too"
        as_partner = httpx.get(
            f"{up.url}/v1/reports/{submitted.json()['id']}",
            headers={"Authorization": f"Bearer {demo_key}"},
        )
        assert as_partner.status_code == 200
        assert as_partner.json()["report"]["confidential"] is None

        # Another command on the same data directory shares the running server.
        run(cli_env, "key", "revoke", reporter["key_id"], "--json")
        refused = httpx.post(
            f"{up.url}/v1/reports",
            json=EXAMPLE_REPORT,
            headers={"Authorization": f"Bearer {reporter['key']}"},
        )
        assert refused.status_code == 401
    finally:
        code, rest = up.stop(signal.SIGTERM)

    assert code == 0
    assert "Watchlist stopped." in rest
    if "WATCHLIST_DATABASE_URL" not in cli_env:
        pgdata = Path(cli_env["WATCHLIST_DATA_DIR"]) / "postgres"
        assert not (pgdata / "postmaster.pid").exists(), "the embedded server is still running"


def test_up_creates_the_demo_only_on_a_new_data_directory(cli_env):
    first = Up(cli_env)
    first.stop(signal.SIGINT)
    second = Up(cli_env)
    code, _ = second.stop(signal.SIGINT)

    assert first.demo_key() is not None
    assert second.demo_key() is None
    assert code == 0


def test_up_without_demo_prints_no_key(cli_env):
    up = Up(cli_env, "--no-demo")
    up.stop(signal.SIGTERM)

    assert up.demo_key() is None


def test_import_reports_progress_rejects_and_a_summary_then_records_nothing_twice(
    cli_env, tmp_path
):
    organisation = run(cli_env, "org", "add", "Turkestan hotline", "--country", "KZ", "--json")
    run(cli_env, "key", "issue", organisation["id"], "--role", "reporter", "--json")
    good = {**EXAMPLE_REPORT, "narrative": "Offered waitress work in Cyprus."}
    bad = {**EXAMPLE_REPORT, "sharing": "everyone"}
    path = tmp_path / "records.ndjson"
    path.write_text("\n".join(json.dumps(b) for b in (good, bad, EXAMPLE_REPORT)) + "\n")
    command = [WATCHLIST, "import", str(path), "--org", organisation["id"], "--json"]

    first, second = (
        subprocess.run(
            command, env=cli_env, capture_output=True, text=True, timeout=120, check=False
        )
        for _ in range(2)
    )

    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["imported"], summary["rejected"], summary["skipped_already_imported"]) == (
        2,
        1,
        0,
    )
    assert "100%" in first.stderr
    assert "rows/s" in first.stderr
    (reject,) = [json.loads(line) for line in Path(summary["rejects"]).read_text().splitlines()]
    assert reject["line"] == 2
    assert reject["errors"][0]["path"] == "$.sharing"
    again = json.loads(second.stdout)
    assert (again["imported"], again["rejected"], again["skipped_already_imported"]) == (0, 1, 2)
