"""Where the time goes: cProfile of the import, the replay and the projector's small batches.

    .venv/bin/python bench/profiles.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Builds the small data set in a database of its own on that server (20,000
reports, as `run.py` does), then profiles, each in turn: importing 10,000 more
rows; replaying the whole log; and the projector following the last 300
events in batches of 20, as it does when reports arrive one by one. Writes the
top of each profile to bench/profiles/*.txt, which the README's Performance
section quotes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dataset import Dataset, write_ndjson
from run import ORGANISATIONS, apply_changes, fresh_database, measure_import, register_members

from projector import tables
from projector.following import collector_paused, decode, event_recorder
from projector.projection import Projection
from projector.rebuild import build, rebuild
from watchlist.application import Watchlist
from watchlist.database import Database
from watchlist.importing import import_file
from watchlist.runtime import load_taxonomy

OUT = Path(__file__).resolve().parent / "profiles"


def profiled(name: str, title: str, fn: Callable[[], Any]) -> Any:
    profile = cProfile.Profile()
    result = profile.runcall(fn)
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    OUT.mkdir(exist_ok=True)
    root = str(Path(__file__).resolve().parents[1])
    body = text.getvalue().replace(str(Path(sys.prefix)), "<venv>").replace(root, ".")
    (OUT / f"{name}.txt").write_text(f"# {title}\n# {result}\n\n{body}")
    print(f"{name}: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reports", type=int, default=20_000)
    args = parser.parse_args()
    with fresh_database(args.database_url, "watchlist_profile_") as database:
        profile_all(database, args.reports)


def profile_all(database: Database, reports: int) -> None:
    taxonomy = load_taxonomy()
    app = Watchlist(database.eventsourcing_env(), taxonomy=taxonomy, master_key=bytes(32))
    try:
        members = register_members(app)
        data = Dataset(2026, organisations=ORGANISATIONS, firms=reports * 3 // 10)
        operations = list(data.operations(reports))
        with tempfile.TemporaryDirectory() as tmp:
            measure_import(app, members, operations, Path(tmp))
            apply_changes(app, members, operations)
            more = Path(tmp) / "more.ndjson"
            write_ndjson(more, [data.report() for _ in range(10_000)])
            profiled(
                "import",
                "import_file of 10,000 rows into a log of 20,000 reports",
                lambda: import_file(app, members[0].principal, more, io.BytesIO()).as_dict(),
            )
        profiled(
            "replay", "projector rebuild of the whole log", lambda: rebuild(database, taxonomy)
        )
        follow(database)
    finally:
        app.close()


def follow(database: Database, events: int = 300, batch: int = 20) -> None:
    """A generation built up to ``events`` before the head (not profiled), then followed
    batch by batch (profiled)."""
    projection = Projection(load_taxonomy())
    recorder = event_recorder(database)
    try:
        with psycopg.connect(database.url, autocommit=True) as conn:
            head = conn.execute("SELECT max(notification_id) FROM watchlist_events").fetchone()
            assert head is not None
            generation, start, _ = build(conn, recorder, projection, up_to=head[0] - events)

            def run() -> str:
                position = start
                while notifications := recorder.select_notifications(
                    start=position, limit=batch, inclusive_of_start=False
                ):
                    # As the runner commits a batch: the garbage collector paused.
                    with collector_paused(), conn.transaction():
                        tables.use_generation(conn, generation)
                        projection.apply(conn, decode(notifications))
                    position = notifications[-1].id
                return f"{position - start} events in batches of {batch}"

            profiled("projector", f"the last {events} events in batches of {batch}", run)
            tables.drop_generation(conn, generation)
    finally:
        recorder.datastore.close()


if __name__ == "__main__":
    main()
