"""The live projector's cost per event, on a log of a given size.

    .venv/bin/python bench/follow.py --reports 100000 --database-url postgresql://postgres@127.0.0.1:5432/postgres

Imports the data set's reports (with its amendments and retractions), submits
``--follow`` more one by one, replays the log up to the first of those into a
generation, then projects them as the live projector does, ``--batch`` events
per batch, in one transaction that is rolled back (so it measures Python and
PostgreSQL work, not commits). Prints wall time, the projector's Python CPU and
its PostgreSQL backend's CPU per event (the backend's from /proc: the database
must be on this machine). The lag in bench/run.py follows from these: at 200
reports/s the projector has 5 ms per event, PostgreSQL's share included.
"""

from __future__ import annotations

import argparse
import gc
import secrets
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dataset import Dataset
from run import (
    ORGANISATIONS,
    apply_changes,
    fresh_database,
    measure_import,
    process_cpu_seconds,
    register_members,
)

from projector import tables
from projector.following import collector_paused, decode, event_recorder
from projector.projection import Projection
from projector.rebuild import build
from watchlist.application import Watchlist
from watchlist.domain.contract import ReportBody
from watchlist.runtime import load_taxonomy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--follow", type=int, default=2_000)
    parser.add_argument("--warm", type=int, default=500, help="events projected before timing")
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--database-url", help="a server to create the database on")
    args = parser.parse_args()
    taxonomy = load_taxonomy()
    data = Dataset(2026, organisations=ORGANISATIONS, firms=max(10, args.reports * 3 // 10))
    with fresh_database(args.database_url) as database, tempfile.TemporaryDirectory() as tmp:
        app = Watchlist(
            database.eventsourcing_env(), taxonomy=taxonomy, master_key=secrets.token_bytes(32)
        )
        members = register_members(app)
        operations = list(data.operations(args.reports))
        # As run.py does: millions of objects that live to the end, kept out of the
        # collector's walks (a full one would hold the GIL past the server's idle timeout).
        gc.freeze()
        measure_import(app, members, operations, Path(tmp))
        apply_changes(app, members, operations)
        with psycopg.connect(database.url, autocommit=True) as conn:
            row = conn.execute("SELECT max(notification_id) FROM watchlist_events").fetchone()
            before = int(row[0]) if row else 0
        for n in range(args.warm + args.follow):
            body = msgspec.convert(data.report(), ReportBody)
            app.submit_report(members[n % len(members)].principal, body)
        app.close()
        recorder = event_recorder(database)
        projection = Projection(taxonomy)
        with psycopg.connect(database.url, autocommit=True) as conn:
            generation, _, replayed = build(conn, recorder, projection, up_to=before)
            tables.vacuum_generation(conn, generation)
        events = decode(
            recorder.select_notifications(start=before, limit=10**7, inclusive_of_start=False)
        )
        recorder.datastore.close()
        with psycopg.connect(database.url) as conn, collector_paused():
            tables.use_generation(conn, generation)
            pid = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
            warm, timed = events[: args.warm], events[args.warm :]
            for i in range(0, len(warm), args.batch):
                projection.apply(conn, warm[i : i + args.batch])
            started, cpu, backend = (
                time.perf_counter(),
                time.process_time(),
                process_cpu_seconds(pid),
            )
            for i in range(0, len(timed), args.batch):
                projection.apply(conn, timed[i : i + args.batch])
            wall = time.perf_counter() - started
            cpu, backend = time.process_time() - cpu, process_cpu_seconds(pid) - backend
            conn.rollback()
    per = 1000 / len(timed)
    print(
        f"{len(timed):,} events after a log of {replayed:,}, batches of {args.batch}: "
        f"{wall * per:.2f} ms per event, {cpu * per:.2f} ms of projector CPU (Python) and "
        f"{backend * per:.2f} ms of PostgreSQL CPU; {projection.joined:,} of "
        f"{args.warm + len(timed):,} reports joined their firm as it stood"
    )


if __name__ == "__main__":
    main()
