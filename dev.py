#!/usr/bin/env python3
"""Set up and run Watchlist from a checkout with nothing but Python 3.11+.

    python3 dev.py up        # install (first time), then run database + API
    python3 dev.py test      # install (first time), then run the test suite
    python3 dev.py lint      # ruff, mypy, and the schemas/ check
    python3 dev.py <command> # any other argument runs `watchlist <command>`

The virtual environment (.venv) is installed from requirements.lock, with
hashes, and reinstalled whenever the lock or pyproject.toml change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".watchlist-installed"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_installed() -> None:
    fingerprint = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    if not (BIN / "python").exists():
        print("creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    print("installing locked dependencies into .venv", flush=True)
    subprocess.run(
        [*pip, "install", "--require-hashes", "--no-deps", "-r", str(ROOT / "requirements.lock")],
        check=True,
    )
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True
    )
    STAMP.write_text(fingerprint)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before any check
        sys.exit("Watchlist needs Python 3.11 or newer")
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    ensure_installed()
    command, rest = argv[0], argv[1:]
    if command == "test":
        os.chdir(ROOT)
        return run([str(BIN / "pytest"), *rest])
    if command == "lint":
        steps = [
            [str(BIN / "ruff"), "check", "."],
            [str(BIN / "ruff"), "format", "--check", "."],
            [str(BIN / "mypy")],
            [str(BIN / "watchlist"), "schemas", "export", "--check"],
        ]
        return max(subprocess.call(step, cwd=ROOT) for step in steps)
    return run([str(BIN / "watchlist"), command, *rest])


def run(command: list[str]) -> int:
    """Run ``command`` in this process's place where the system allows: a signal sent to
    `dev.py` (a supervisor's SIGTERM) then reaches the server itself. Run as a child, the
    server outlived it, serving on with no one to stop it."""
    if os.name == "posix":
        os.execv(command[0], command)  # noqa: S606 - the venv's own programs, no shell
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
