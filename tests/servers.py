"""The real `watchlist` command, run as a user runs it: for end-to-end and browser tests."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from conftest import SIGNING_SEED

WATCHLIST = str(Path(sys.executable).with_name("watchlist"))
# `python3 dev.py <command>`, as the README starts Watchlist from a checkout.
DEV_PY = (sys.executable, str(Path(__file__).resolve().parents[1] / "dev.py"))


def command_env(database: Any, master_key: bytes, data_dir: Path) -> dict[str, str]:
    """The environment the commands run in: embedded by default, or the external server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHLIST_")}
    env["WATCHLIST_DATA_DIR"] = str(data_dir)
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
    """`watchlist up` (or ``command``) in a subprocess, read line by line until it serves."""

    def __init__(
        self,
        env: dict[str, str],
        *args: str,
        command: str = "up",
        launcher: tuple[str, ...] = (WATCHLIST,),
    ) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [*launcher, command, "--port", str(self.port), *args],
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
        # `serve` runs no projector: being up is all it can promise.
        health = "/health/ready" if command == "up" else "/health/live"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}{health}").status_code == 200:
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
