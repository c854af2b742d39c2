"""The real `watchlist` command: organisations and keys, then `up` serving over HTTP."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import DEV_PY, WATCHLIST, Up, command_env, run
from watchlist.api.examples import EXAMPLE_REPORT


@pytest.fixture
def cli_env(database: Any, master_key: bytes, tmp_path: Path) -> dict[str, str]:
    """The environment the commands run in: embedded by default, or the external server."""
    return command_env(database, master_key, tmp_path / "data")


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


def assert_stopped_cleanly(code: int, rest: str, cli_env: dict[str, str]) -> None:
    """`up` said goodbye, exited 0, and stopped its embedded server (if it ran one)."""
    assert code == 0
    assert "Watchlist stopped." in rest
    if "WATCHLIST_DATABASE_URL" not in cli_env:
        pgdata = Path(cli_env["WATCHLIST_DATA_DIR"]) / "postgres"
        assert not (pgdata / "postmaster.pid").exists(), "the embedded server is still running"


def test_up_serves_reports_and_stops_cleanly_on_sigterm(cli_env):
    organisation = run(cli_env, "org", "add", "Shymkent legal centre", "--json")
    reporter = run(cli_env, "key", "issue", organisation["id"], "--role", "reporter", "--json")

    # A revoked key may work on for the seconds the API trusts a checked key: none here.
    up = Up(cli_env | {"WATCHLIST_KEY_CACHE_SECONDS": "0"})
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

    assert_stopped_cleanly(code, rest, cli_env)


def test_dev_py_up_hands_a_sigterm_on_to_the_server_it_started(cli_env):
    """A supervisor stops `python3 dev.py up` with SIGTERM: the server stops with it,
    the embedded database too, where it used to run on without dev.py."""
    up = Up(cli_env, "--no-demo", launcher=DEV_PY)

    code, rest = up.stop(signal.SIGTERM)

    assert_stopped_cleanly(code, rest, cli_env)


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


def test_serve_with_workers_answers_and_logs_every_request_then_stops(cli_env):
    organisation = run(cli_env, "org", "add", "Osh migrants' hotline", "--json")
    auditor = run(cli_env, "key", "issue", organisation["id"], "--role", "auditor", "--json")
    headers = {"Authorization": f"Bearer {auditor['key']}"}

    served = Up(cli_env, "--workers", "2", command="serve")
    try:
        # A new connection each time: the workers share the port between them.
        answers = [httpx.get(f"{served.url}/v1/firms", headers=headers) for _ in range(8)]
        logged = httpx.get(
            f"{served.url}/v1/audit/access",
            params={"org": organisation["id"], "limit": 100},
            headers=headers,
        )
    finally:
        code, rest = served.stop(signal.SIGTERM)

    assert [a.status_code for a in answers] == [200] * 8
    assert [e["route"] for e in logged.json()["items"]].count("/v1/firms") == 8
    assert "workers:  2" in "\n".join(served.lines)
    assert code == 0
    assert "Watchlist stopped." in rest


def test_an_unreachable_database_is_named_at_once_without_a_traceback(cli_env):
    """An operator who mistyped WATCHLIST_DATABASE_URL learns where and why in a line,
    not after the pool's 30 s wait, and the password stays out of it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    env = cli_env | {
        "WATCHLIST_DATABASE_URL": f"postgresql://ops:s3cret@127.0.0.1:{port}/wl",
        "WATCHLIST_MASTER_KEY": base64.b64encode(b"k" * 32).decode(),
    }
    for command in (["projector", "status"], ["org", "add", "X", "--country", "KZ"], ["serve"]):
        done = subprocess.run(
            [WATCHLIST, *command], env=env, capture_output=True, text=True, timeout=20, check=False
        )

        assert done.returncode == 1, (command, done.stderr)
        assert done.stderr.startswith(f"Error: cannot reach the database at 127.0.0.1:{port}/wl: ")
        assert "Connection refused" in done.stderr
        assert "Traceback" not in done.stderr
        assert "s3cret" not in done.stderr


def test_an_output_file_that_cannot_be_written_is_named_without_a_traceback(cli_env, tmp_path):
    organisation = run(cli_env, "org", "add", "Taraz hotline", "--country", "KZ", "--json")
    run(cli_env, "key", "issue", organisation["id"], "--role", "reporter", "--json")
    path = tmp_path / "records.ndjson"
    path.write_text(json.dumps({**EXAMPLE_REPORT, "sharing": "everyone"}) + "\n")
    nowhere = tmp_path / "no such folder"
    rejects, log = str(nowhere / "rejects.ndjson"), str(nowhere / "log.ndjson")
    commands = {
        "import": ["import", str(path), "--org", organisation["id"], "--rejects", rejects],
        "export": ["audit", "export", "--out", log],
    }

    for name, args in commands.items():
        done = subprocess.run(
            [WATCHLIST, *args],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

        assert done.returncode == 1, (name, done.stderr)
        assert f"cannot write {nowhere}" in done.stderr, name
        assert "No such file or directory" in done.stderr, name
        assert "Traceback" not in done.stderr, name


def test_schemas_that_cannot_be_written_are_named_without_a_traceback(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")

    done = subprocess.run(
        [WATCHLIST, "schemas", "export", "--dir", str(blocker / "schemas")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert f"cannot write {blocker}" in done.stderr
    assert "Traceback" not in done.stderr
