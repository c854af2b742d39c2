"""API ingest alone, round after round, with the CPU each report costs every process.

    .venv/bin/python bench/ingest.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/ingest.py --src /tmp/old   # the same, served from another checkout

The figure `run.py` calls API ingest (32 keep-alive clients, `Prefer: wait=0`,
projector stopped), without the rest of the bench, so that two versions can be
compared back to back. On a machine shared with other work, reports/s moves
with everyone else's load; the CPU time per report of the API process (all its
threads), of the load generator and of the database's backends moves far less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import secrets
import sys
import tempfile
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dataset import Dataset
from load import Request, closed_loop
from run import (
    ORGANISATIONS,
    Services,
    fresh_database,
    process_cpu_seconds,
    register_members,
    submit_request,
)

from watchlist.application import Watchlist
from watchlist.database import Database
from watchlist.runtime import load_taxonomy


def backends_seconds(url: str) -> float:
    """CPU time so far of the database's backends serving this database."""
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a server on another host, or a backend gone
            total += process_cpu_seconds(pid)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a server to create the bench database on")
    parser.add_argument("--prefix", default="watchlist_bench_", help="the database's name prefix")
    parser.add_argument("--src", type=Path, help="serve another checkout's code")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    if args.src:  # `watchlist serve` imports from here first
        os.environ["PYTHONPATH"] = os.pathsep.join(
            str(args.src / "services" / name) for name in ("watchlist", "projector")
        )
    with fresh_database(args.database_url, args.prefix) as database:
        measure(database, args.rounds, args.seconds)


def measure(database: Database, rounds: int, seconds: float) -> None:
    master_key = secrets.token_bytes(32)
    app = Watchlist(database.eventsourcing_env(), taxonomy=load_taxonomy(), master_key=master_key)
    try:
        members = register_members(app)
        data = Dataset(2026, organisations=ORGANISATIONS, firms=6000)
        counter = iter(range(10**9))

        def next_request() -> Request:
            member = members[next(counter) % len(members)]
            return submit_request(member, data.report(), "0")

        gc.freeze()
        with tempfile.TemporaryDirectory() as tmp:
            services = Services(database, master_key, Path(tmp))
            try:
                services.stop_projector()
                asyncio.run(closed_loop("127.0.0.1", services.port, 32, 2, next_request))
                for _ in range(rounds):
                    load = os.getloadavg()[0]
                    api, db, own = (
                        process_cpu_seconds(services.serve.pid),
                        backends_seconds(database.url),
                        os.times(),
                    )
                    run = asyncio.run(
                        closed_loop("127.0.0.1", services.port, 32, seconds, next_request)
                    )
                    n = len(run.results)
                    api = process_cpu_seconds(services.serve.pid) - api
                    db = backends_seconds(database.url) - db
                    after = os.times()
                    generator = after.user + after.system - own.user - own.system
                    print(
                        f"{run.rate():6,.0f} reports/s  p50 {run.percentile(50):5.1f} ms  "
                        f"p99 {run.percentile(99):5.1f} ms  CPU per report: API "
                        f"{api / n * 1e6:4.0f} us ({api / run.elapsed:.2f} cores), load "
                        f"generator {generator / n * 1e6:4.0f} us, database {db / n * 1e6:4.0f} "
                        f"us  statuses {run.statuses()}  load average {load:.2f}",
                        flush=True,
                    )
            finally:
                services.stop()
    finally:
        app.close()


if __name__ == "__main__":
    main()
