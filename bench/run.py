"""Watchlist's benchmarks, each beside the raw limit of the same database in the same run.

    .venv/bin/python bench/run.py            # small sizes, a few minutes
    .venv/bin/python bench/run.py --full     # the sizes the README's figures come from

See bench/README.md for what each figure means. Prints a table and writes the
results as JSON (bench/results/latest.json unless --out says otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import base64
import contextlib
import gc
import io
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dataset import Dataset, Operation, corrupt, write_ndjson
from load import Request, Run, closed_loop, open_loop

from projector import tables
from projector.audit import chained_head
from projector.rebuild import rebuild
from projector.runner import tracked_position
from watchlist.application import Watchlist
from watchlist.database import Database, scratch_database, start_embedded
from watchlist.domain.contract import ReportBody
from watchlist.domain.report import Report
from watchlist.importing import import_file
from watchlist.runtime import load_taxonomy
from watchlist.views import Principal

ROOT = Path(__file__).resolve().parents[1]
WATCHLIST = str(Path(sys.executable).with_name("watchlist"))
SIZES: dict[str, dict[str, int]] = {
    "small": {"reports": 20_000, "firms": 8_000, "ingest": 8, "lag": 10, "reads": 8},
    "full": {"reports": 1_000_000, "firms": 300_000, "ingest": 30, "lag": 30, "reads": 20},
}
ORGANISATIONS = 12
LAG_RATE = 200  # reports/s, submitted at a steady pace while the lag is measured
# Reads also offered at steady rates, each timed from when it was due: the latency a
# hotline operator meets at that load, where 16 clients in a closed loop measure it at
# the server's saturation.
STEADY_READS = (500, 1_000, 2_000)
BAD_EVERY = 100  # one bad row per hundred: the issue's 1%
TARGETS = {
    "import": ("reports/s", 10_000, ">="),
    "api_ingest": ("reports/s", 2_000, ">="),
    "api_ingest_p99": ("ms", 100, "<"),
    "replay": ("events/s", 20_000, ">="),
    "lag_p99": ("ms", 100, "<"),
    "profile_p99": ("ms", 10, "<"),
    "search_p99": ("ms", 30, "<"),
    "reads": ("requests/s", 2_000, ">="),
}


@dataclass
class Member:
    principal: Principal
    key: str


def register_members(app: Watchlist) -> list[Member]:
    """The data set's organisations, each with a reporter key."""
    members = []
    for n in range(ORGANISATIONS):
        organisation = app.register_organisation(f"Hotline {n + 1}", "KZ")
        issued = app.issue_key(organisation, "reporter")
        principal = app.authenticate(issued.key)
        assert principal is not None
        members.append(Member(principal, issued.key))
    return members


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def fresh_database(url: str | None, prefix: str = "watchlist_bench_") -> Iterator[Database]:
    """A new database on the given server, or on an embedded one in a temporary directory;
    dropped at the end."""
    if url:
        server = Database(url=url, embedded=False)
    else:
        data = Path(tempfile.mkdtemp(prefix="wl-bench-"))
        # The embedded server stops at exit; registered before it starts, the removal of
        # its directory (4 GB after a --full run, most of it write-ahead log) runs after.
        atexit.register(shutil.rmtree, data, ignore_errors=True)
        server = start_embedded(data)
    with scratch_database(server, prefix) as database:
        yield database


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def own_cpu_seconds() -> float:
    """CPU time of this process, its threads, and the children it has waited for (a
    replay's forked renderer and keys helper)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int | str) -> list[str]:
    """The fields of ``/proc/PID/stat`` after the command's name: [1] is the parent,
    [11] and [12] the process's user and system ticks, [13] and [14] its waited-for
    children's."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int) -> float:
    """User and system time of ``pid`` and all its threads so far."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICK


def server_cpu_seconds(url: str) -> float | None:
    """CPU time so far of the whole database server, when it runs on this machine: its
    postmaster, every live child and every child gone (a backend, a parallel worker, the
    checkpointer). None for a server elsewhere.

    A backend whose client has just left may exit between the reading of the
    postmaster and that of its children, and be counted in neither (a replay's
    connection, with the indexes' minutes in it): the server is read until two
    readings in a row name the same children and the same time for those gone.
    """
    with psycopg.connect(url) as conn:
        try:
            postmaster = int(_stat(conn.info.backend_pid)[1])
        except OSError:
            return None
        last: tuple[int, dict[str, int]] | None = None
        for _ in range(100):
            reading = _server_reading(postmaster)
            if last is not None and reading[0] == last[0] and reading[1].keys() == last[1].keys():
                break
            last = reading
            time.sleep(0.01)
    return (reading[0] + sum(reading[1].values())) / TICK


def _server_reading(postmaster: int) -> tuple[int, dict[str, int]]:
    """The postmaster's ticks with those of its children gone, and each live child's."""
    fields = _stat(postmaster)
    gone = sum(int(f) for f in fields[11:15])
    live: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                child = _stat(entry.name)
                if int(child[1]) == postmaster:
                    live[entry.name] = int(child[11]) + int(child[12])
    return gone, live


@contextmanager
def cpu_meter(url: str) -> Iterator[dict[str, float | None]]:
    """The CPU seconds this process and the database server spend inside the block."""
    found: dict[str, float | None] = {}
    own, server = own_cpu_seconds(), server_cpu_seconds(url)
    yield found
    found["own_cpu_seconds"] = own_cpu_seconds() - own
    after = server_cpu_seconds(url)
    found["database_cpu_seconds"] = None if server is None or after is None else after - server


# 1. Import, against COPY


def measure_import(
    app: Watchlist, members: list[Member], operations: list[Operation], work: Path
) -> dict[str, Any]:
    rnd = Dataset(1).random
    files: list[tuple[Member, Path]] = []
    rows = bad = 0
    for index, member in enumerate(members):
        bodies: list[dict[str, Any]] = []
        for op in operations:
            if op.kind == "submit" and op.organisation == index:
                assert op.body is not None
                bodies.append(op.body)
                if len(bodies) % BAD_EVERY == 0:
                    bodies.append(corrupt(op.body, rnd)[0])
                    bad += 1
        rows += len(bodies)
        path = work / f"organisation-{index}.ndjson"
        write_ndjson(path, bodies)
        files.append((member, path))
    log(f"import: {rows:,} rows in {len(files)} files, {bad:,} of them bad")

    def run_all() -> list[Any]:
        return [import_file(app, m.principal, p, io.BytesIO()) for m, p in files]

    summaries, seconds = timed(run_all)
    imported = sum(s.imported for s in summaries)
    rejected = sum(s.rejected for s in summaries)
    again, again_seconds = timed(lambda: import_file(app, *_first(files), io.BytesIO()))
    copy_rate = copy_baseline(app, [op.body for op in operations if op.kind == "submit"])
    return {
        "rows": rows,
        "imported": imported,
        "rejected": rejected,
        "expected_bad": bad,
        "seconds": seconds,
        "reports_per_s": imported / seconds,
        "second_run": {
            "imported": again.imported,
            "skipped": again.skipped,
            "rows_per_s": again.rows / again_seconds,
        },
        "baseline_copy_rows_per_s": copy_rate,
    }


def _first(files: list[tuple[Member, Path]]) -> tuple[Principal, Path]:
    member, path = files[0]
    return member.principal, path


def copy_baseline(app: Watchlist, bodies: list[Any]) -> float:
    """Rows/s of a raw COPY of the same reports into a table shaped like the event table."""
    states = [msgspec.json.encode(b) for b in bodies]
    with app.connection() as conn:
        conn.execute(
            "CREATE TABLE bench_copy (originator_id uuid NOT NULL, originator_version integer "
            "NOT NULL, topic text NOT NULL, state bytea, notification_id bigserial, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute("CREATE UNIQUE INDEX ON bench_copy (notification_id)")
        conn.commit()
        topic = "watchlist.domain.report:ReportSubmitted"

        def copy() -> None:
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(
                    "COPY bench_copy (originator_id, originator_version, topic, state) FROM STDIN"
                ) as out,
            ):
                for state in states:
                    out.write_row((uuid4(), 1, topic, state))

        _, seconds = timed(copy)
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
    return len(states) / seconds


def apply_changes(app: Watchlist, members: list[Member], operations: list[Operation]) -> int:
    """The dataset's amendments and retractions, on the reports the import recorded."""
    order: dict[int, list[UUID]] = {}
    with app.connection() as conn:
        for index, member in enumerate(members):
            rows = conn.execute(
                "SELECT report_id FROM watchlist_reports WHERE organisation_id = %s ORDER BY seq",
                (member.principal.organisation_id,),
            ).fetchall()
            order[index] = [r["report_id"] for r in rows]
    position: dict[int, tuple[int, int]] = {}  # submission index -> (organisation, nth)
    counts = [0] * len(members)
    submissions = 0
    changes = 0
    versions: dict[UUID, int] = {}
    retracted: set[UUID] = set()
    for op in operations:
        if op.kind == "submit":
            position[submissions] = (op.organisation, counts[op.organisation])
            counts[op.organisation] += 1
            submissions += 1
            continue
        assert op.target is not None
        organisation, nth = position[op.target]
        report_id = order[organisation][nth]
        if report_id in retracted:
            continue
        principal = members[organisation].principal
        version = versions.get(report_id, 1)
        if op.kind == "amend":
            body = msgspec.convert(op.body, ReportBody)
            app.amend_report(principal, report_id, version, body, op.reason)
            versions[report_id] = version + 1
        else:
            app.retract_report(principal, report_id, op.reason, version)
            retracted.add(report_id)
        changes += 1
    return changes


# 2. Replay, against a raw ordered scan


def measure_replay(database: Database) -> dict[str, Any]:
    with psycopg.connect(database.url) as conn:

        def scan() -> int:
            count = 0
            with conn.cursor(name="scan") as cur:
                cur.itersize = 10_000
                cur.execute("SELECT * FROM watchlist_events ORDER BY notification_id")
                for _ in cur:
                    count += 1
            return count

        events, scan_seconds = timed(scan)
    with cpu_meter(database.url) as cpu:
        rebuilt, seconds = timed(lambda: rebuild(database, load_taxonomy()))
    return {
        "events": rebuilt.events,
        "seconds": seconds,
        "events_per_s": rebuilt.events / seconds,
        "baseline_scan_events_per_s": events / scan_seconds,
        "scan_seconds": scan_seconds,
        **cpu,
    }


def database_alone(replay: dict[str, Any], database: Database, work: Path) -> None:
    """The replay's second baseline, measured last: its gigabytes of writes would
    otherwise be the checkpoints and autovacuums of the phases after it."""
    written = write_alone(database, work)
    replay["written_alone"] = written
    # The database's own part of a replay: reading the log and writing what it yields.
    replay["baseline_database_events_per_s"] = replay["events"] / (
        replay["scan_seconds"] + written["seconds"]
    )


def write_alone(database: Database, work: Path) -> dict[str, Any]:
    """The read models a replay wrote, written again with no Python making rows.

    Every table of the live generation (the replay's, with what the API phases added
    to it) is copied out in binary, then into a new generation as a replay fills one
    (tables committed empty, rows loaded by COPY on two connections, one per core),
    indexed by the same statements and vacuumed the same way. What is left of a
    replay's time beyond this and the ordered scan is the projector's own.
    """
    with psycopg.connect(database.url, autocommit=True) as conn:
        live = tables.live_generation(conn)
        assert live is not None
        schema = tables.schema_name(live)
        names = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'tracking'",
                (schema,),
            ).fetchall()
        ]  # the tracking row is made with the tables
        files = {}
        with conn.cursor() as cur:
            for name in names:
                files[name] = work / f"written-alone-{name}.bin"
                with (
                    files[name].open("wb") as out,
                    cur.copy(
                        sql.SQL("COPY {}.{} TO STDOUT (FORMAT binary)").format(
                            sql.Identifier(schema), sql.Identifier(name)
                        )
                    ) as copy,
                ):
                    for chunk in copy:
                        out.write(chunk)
        generation = tables.create_generation(conn, indexes=False)

        def load(name: str) -> None:
            with psycopg.connect(database.url) as own, own.cursor() as cur:
                tables.use_generation(own, generation)
                with (
                    files[name].open("rb") as source,
                    cur.copy(
                        sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(sql.Identifier(name))
                    ) as copy,
                ):
                    while chunk := source.read(1 << 20):
                        copy.write(chunk)

        def index() -> None:
            with conn.transaction():
                tables.use_generation(conn, generation)
                conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
                tables.create_indexes(conn)

        try:
            largest_first = sorted(names, key=lambda n: files[n].stat().st_size, reverse=True)
            with cpu_meter(database.url) as cpu:
                with ThreadPoolExecutor(max_workers=2) as pool:
                    _, loading = timed(lambda: list(pool.map(load, largest_first)))
                _, indexing = timed(index)
                _, vacuuming = timed(lambda: tables.vacuum_generation(conn, generation))
            size = sum(path.stat().st_size for path in files.values())
        finally:
            tables.drop_generation(conn, generation)
            for path in files.values():
                path.unlink()
    return {
        "seconds": loading + indexing + vacuuming,
        "load_seconds": loading,
        "index_seconds": indexing,
        "vacuum_seconds": vacuuming,
        "bytes": size,
        **cpu,
    }


# 3. The API: lag, reads, ingest


class Services:
    """`watchlist serve` and `watchlist projector`, as compose.yaml runs them."""

    def __init__(self, database: Database, master_key: bytes, work: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHLIST_")}
        env |= {
            "WATCHLIST_DATABASE_URL": database.url,
            "WATCHLIST_MASTER_KEY": base64.b64encode(master_key).decode(),
            "WATCHLIST_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "WATCHLIST_DATA_DIR": str(work / "data"),
            "WATCHLIST_PORT": str(self.port),
            "WATCHLIST_PUBLIC_CHECKS_PER_MINUTE": "1000000",
        }
        self.logs = (work / "serve.log").open("w"), (work / "projector.log").open("w")
        self.serve = subprocess.Popen(
            [WATCHLIST, "serve"], env=env, stdout=self.logs[0], stderr=subprocess.STDOUT
        )
        self.projector_log = work / "projector.log"
        self.projector = subprocess.Popen(
            # Every batch logged (each takes over a millisecond): how busy it was, and
            # which batches were slow.
            [WATCHLIST, "projector", "--poll-interval", "0.5", "--slow-batch-ms", "1"],
            env=env,
            stdout=self.logs[1],
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        # The work directory goes with the run: say what the server said.
        self.stop()
        said = (work / "serve.log").read_text()[-2000:]
        raise RuntimeError(f"watchlist serve did not start in 60 s; it said:\n{said}")

    def batches(self, since: int, seconds: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """The batches the projector logged after byte ``since`` of its log, in a phase of
        ``seconds``: how busy they kept it, and a summary of the slow ones (over 100 ms)."""
        with self.projector_log.open("rb") as file:
            file.seek(since)
            text = file.read()
        found = [
            {k: int(v) for k, v in m.groupdict().items()}
            for m in _BATCH.finditer(text.decode(errors="replace"))
        ]
        events, busy = sum(f["events"] for f in found), sum(f["ms"] for f in found)
        slow = [f for f in found if f["ms"] > 100]
        phases = ("start", "apply", "chain", "commit")
        return (
            {
                "batches": len(found),
                "events": events,
                "busy_share": busy / (seconds * 1000),
                "batch_ms_per_event": busy / events if events else 0.0,
            },
            {
                "count": len(slow),
                "events": sum(f["events"] for f in slow),
                "joined_in_place": sum(f["joined"] for f in slow),
                "ms_by_phase": {p: sum(f[p] for f in slow) for p in phases},
                "longest": sorted(slow, key=lambda f: -f["ms"])[:5],
            },
        )

    def stop_projector(self) -> None:
        if self.projector.poll() is None:
            self.projector.terminate()
            self.projector.wait(30)

    def stop(self) -> None:
        self.stop_projector()
        self.serve.terminate()
        self.serve.wait(30)
        for file in self.logs:
            file.close()


_BATCH = re.compile(
    r"slow batch: (?P<events>\d+) events up to position \d+ in (?P<ms>\d+) ms "
    r"\(start (?P<start>\d+), apply (?P<apply>\d+), of which (?P<joined>\d+) reports joined "
    r"their firm in place; chain (?P<chain>\d+); last writes and commit (?P<commit>\d+)\)"
)


def caught_up(database: Database, timeout: float) -> float:
    """Wait until the projector has the whole log in the read models and in the audit
    chain; how long that took."""
    started = time.perf_counter()
    with psycopg.connect(database.url, autocommit=True) as conn:
        while time.perf_counter() - started < timeout:
            row = conn.execute(
                "SELECT coalesce(max(notification_id), 0), to_regclass('watchlist_chain') "
                "FROM watchlist_events"
            ).fetchone()
            assert row is not None
            head, chain_exists = row
            if chain_exists and min(tracked_position(conn), chained_head(conn)) >= head:
                break
            time.sleep(0.5)
    return time.perf_counter() - started


def submit_request(member: Member, body: dict[str, Any], wait: str) -> Request:
    return Request(
        "POST",
        "/v1/reports",
        {
            "Authorization": f"Bearer {member.key}",
            "Content-Type": "application/json",
            "Prefer": f"wait={wait}",
        },
        json.dumps(body).encode(),
        tag="submit",
    )


class Upkeep:
    """What the database and the kernel did beside a phase (sampled twice a second): the
    tables autovacuum vacuumed or analyzed (after an import and a replay it has millions
    of new rows to visit), the checkpoints completed, and the most dirty page cache
    waiting to be written (Linux)."""

    def __init__(self, url: str) -> None:
        self.url, self.tables = url, set[str]()
        self.checkpoints = 0
        self.dirty_mb_max = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Upkeep:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            first = _checkpoints(conn)
            while not self._stop.wait(0.5):
                rows = conn.execute(
                    "SELECT relid::regclass::text FROM pg_stat_progress_vacuum "
                    "WHERE datname = current_database() UNION "
                    "SELECT 'ANALYZE ' || relid::regclass::text FROM pg_stat_progress_analyze "
                    "WHERE datname = current_database()"
                ).fetchall()
                self.tables |= {row[0] for row in rows}
                self.dirty_mb_max = max(self.dirty_mb_max, _dirty_mb())
            self.checkpoints = _checkpoints(conn) - first


def _checkpoints(conn: psycopg.Connection[Any]) -> int:
    """Checkpoints completed since the server's statistics were reset."""
    try:  # PostgreSQL 17 and later
        row = conn.execute("SELECT num_timed + num_requested FROM pg_stat_checkpointer").fetchone()
    except psycopg.errors.UndefinedTable:
        row = conn.execute(
            "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
        ).fetchone()
    return int(row[0]) if row else 0


def _dirty_mb() -> int:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return 0
    for line in meminfo.read_text().splitlines():
        if line.startswith("Dirty:"):
            return int(line.split()[1]) // 1024
    return 0


def measure_lag(
    port: int, members: list[Member], data: Dataset, seconds: int, database: Database
) -> dict[str, Any]:
    """Submit at a steady 200 reports/s; each answer comes once the profile shows the report."""
    counter = iter(range(10**9))

    def next_request() -> Request:
        return submit_request(members[next(counter) % len(members)], data.report(), "5")

    with Upkeep(database.url) as upkeep:
        run = asyncio.run(open_loop("127.0.0.1", port, LAG_RATE, seconds, next_request))
    slow: dict[int, int] = {}
    for result in run.results:
        if result.seconds > 0.1:
            slow[int(result.due)] = slow.get(int(result.due), 0) + 1
    projected = sum(1 for b in run.json_bodies() if b.get("projected"))
    # The projector starts this phase having projected nothing since it started, its
    # caches empty: the answers after its first two seconds (in the order they came)
    # show it settled.
    settled = Run(run.results[2 * LAG_RATE :], run.elapsed)
    return {
        "rate": LAG_RATE,
        "submitted": len(run.results),
        "statuses": run.statuses(),
        "projected": projected,
        "p50_ms": run.percentile(50),
        "p99_ms": run.percentile(99),
        "settled_p50_ms": settled.percentile(50),
        "settled_p99_ms": settled.percentile(99),
        # Answers over 100 ms, by the second of the phase in which they were sent.
        "over_100_ms_by_second": dict(sorted(slow.items())),
        "autovacuum_meanwhile": sorted(upkeep.tables),
        "checkpoints_meanwhile": upkeep.checkpoints,
        "dirty_page_cache_max_mb": upkeep.dirty_mb_max,
    }


def measure_commit_latency(
    port: int, members: list[Member], data: Dataset, seconds: int
) -> dict[str, Any]:
    """The lag's baseline: the same steady 200 reports/s, answered once committed."""
    counter = iter(range(10**9))

    def next_request() -> Request:
        return submit_request(members[next(counter) % len(members)], data.report(), "0")

    run = asyncio.run(open_loop("127.0.0.1", port, LAG_RATE, seconds, next_request))
    return {"statuses": run.statuses(), "p50_ms": run.percentile(50), "p99_ms": run.percentile(99)}


def measure_reads(
    port: int, member: Member, database: Database, data: Dataset, seconds: int
) -> dict[str, Any]:
    with psycopg.connect(database.url) as conn:
        generation = conn.execute("SELECT generation FROM watchlist_read_model").fetchone()
        assert generation is not None
        schema = sql.Identifier(f"watchlist_rm_{generation[0]}")
        firms = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.firms WHERE view = 'partners'").format(schema)
        ).fetchone()
        sample = conn.execute(
            sql.SQL(
                "SELECT firm_id FROM {}.firms WHERE view = 'partners' ORDER BY md5(firm_id::text) "
                "LIMIT 5000"
            ).format(schema)
        ).fetchall()
    assert firms is not None
    ids = [r[0] for r in sample]
    queries = []
    for firm in data.firms[:5000]:  # names and phones typed yet another way
        queries.append(data.name(firm).strip())
        queries.append(data.phone(firm))
    headers = {"Authorization": f"Bearer {member.key}"}
    counter = iter(range(10**9))

    def next_request() -> Request:
        n = next(counter)
        if n % 2:
            query = queries[(n // 2) % len(queries)]
            path = "/v1/firms?" + _urlencode(query)
            return Request("GET", path, headers, tag="search")
        return Request("GET", f"/v1/firms/{ids[(n // 2) % len(ids)]}", headers, tag="profile")

    run = asyncio.run(closed_loop("127.0.0.1", port, 16, seconds, next_request))
    steady = []
    for rate in STEADY_READS:
        paced = asyncio.run(open_loop("127.0.0.1", port, rate, max(4, seconds // 2), next_request))
        live = asyncio.run(open_loop("127.0.0.1", port, rate, max(2, seconds // 4), health_request))
        steady.append(
            {
                "offered_per_s": rate,
                "answered_per_s": paced.rate(),
                "statuses": paced.statuses(),
                # The same pace of /health/live: the framework's and the generator's floor.
                "baseline_health_p50_ms": live.percentile(50),
                "baseline_health_p99_ms": live.percentile(99),
            }
            | _latencies(paced)
        )
    floor = asyncio.run(closed_loop("127.0.0.1", port, 16, max(2, seconds // 2), health_request))
    return {
        "baseline_health_requests_per_s": floor.rate(),
        "firms": int(firms[0]),
        "clients": 16,
        "statuses": run.statuses(),
        "requests_per_s": run.rate(),
        **_latencies(run),
        "steady": steady,
    }


def health_request() -> Request:
    return Request("GET", "/health/live", {})


def _latencies(run: Run) -> dict[str, float]:
    return {
        f"{tag}_p{q}_ms": run.percentile(q, tag) for tag in ("profile", "search") for q in (50, 99)
    }


def _urlencode(query: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": query})


def measure_ingest(
    app: Watchlist, port: int, members: list[Member], data: Dataset, seconds: int
) -> dict[str, Any]:
    # The baseline: the library appending one report per transaction, one writer.
    member = members[0]
    bodies = [msgspec.convert(data.report(), ReportBody) for _ in range(2000)]

    def single_writer() -> None:
        for body in bodies:
            app.save(
                Report.submit(
                    id=uuid4(),
                    organisation_id=member.principal.organisation_id,
                    key_id=member.principal.key_id,
                    content=body.content(),
                    confidential=None,
                )
            )

    _, baseline_seconds = timed(single_writer)
    counter = iter(range(10**9))

    def next_request() -> Request:
        return submit_request(members[next(counter) % len(members)], data.report(), "0")

    with app.connection() as conn:
        row = conn.execute("SELECT max(notification_id) AS head FROM watchlist_events").fetchone()
    before = row["head"] if row else 0
    run = asyncio.run(closed_loop("127.0.0.1", port, 32, seconds, next_request))
    ids = [UUID(b["id"]) for b in run.json_bodies() if "id" in b]
    with app.connection() as conn:
        transactions = conn.execute(
            "SELECT count(DISTINCT xmin::text) AS n FROM watchlist_events "
            "WHERE notification_id > %s AND originator_id = ANY(%s)",
            (before, ids),
        ).fetchone()
    assert transactions is not None
    return {
        "clients": 32,
        "statuses": run.statuses(),
        "reports_per_s": run.rate(),
        "p50_ms": run.percentile(50),
        "p99_ms": run.percentile(99),
        "reports_per_transaction": len(ids) / max(int(transactions["n"]), 1),
        "baseline_single_writer_per_s": len(bodies) / baseline_seconds,
    }


# The table


def table(results: dict[str, Any]) -> str:
    i, r, lag, reads, ingest = (
        results["import"],
        results["replay"],
        results["lag"],
        results["reads"],
        results["api_ingest"],
    )
    alone = r["written_alone"]
    rows = [
        ("import", i["reports_per_s"], "reports/s", "COPY", i["baseline_copy_rows_per_s"]),
        (
            "api_ingest",
            ingest["reports_per_s"],
            "reports/s",
            "library, 1 writer",
            ingest["baseline_single_writer_per_s"],
        ),
        ("api_ingest_p99", ingest["p99_ms"], "ms", "", None),
        ("replay", r["events_per_s"], "events/s", "ordered scan", r["baseline_scan_events_per_s"]),
        (
            "replay",
            r["events_per_s"],
            "events/s",
            "database alone",
            r["baseline_database_events_per_s"],
        ),
        ("lag_p99", lag["p99_ms"], "ms", "commit alone", lag["baseline_commit"]["p99_ms"]),
        ("profile_p99", reads["profile_p99_ms"], "ms", "", None),
        ("search_p99", reads["search_p99_ms"], "ms", "", None),
        (
            "reads",
            reads["requests_per_s"],
            "requests/s",
            "/health/live",
            reads["baseline_health_requests_per_s"],
        ),
    ]
    lines = [
        "| measure | value | baseline | baseline value | ratio | target | met |",
        "|---|---:|---|---:|---:|---:|:-:|",
    ]
    for name, value, unit, baseline, base in rows:
        _, target, sense = TARGETS[name]
        met = value >= target if sense == ">=" else value < target
        ratio = f"{value / base:.2f}" if base else ""
        lines.append(
            f"| {name} | {value:,.1f} {unit} | {baseline} | "
            f"{f'{base:,.0f} {unit}' if base else ''} | {ratio} | {sense} {target:,} | "
            f"{'yes' if met else 'no'} |"
        )
    extra = (
        f"\nimport: {i['imported']:,} of {i['rows']:,} rows recorded, {i['rejected']:,} rejected "
        f"({i['expected_bad']:,} bad rows written); second run of one file: "
        f"{i['second_run']['imported']} imported, {i['second_run']['skipped']:,} skipped."
        f"\napi ingest (projector stopped): {ingest['clients']} clients, "
        f"p50 {ingest['p50_ms']:.1f} ms, {ingest['reports_per_transaction']:.1f} reports per "
        "transaction."
        f"\nreplay: {r['events']:,} events in {r['seconds']:.1f} s; the database alone "
        f"{r['scan_seconds'] + alone['seconds']:.1f} s: the ordered scan "
        f"{r['scan_seconds']:.1f} s, the read models written again "
        f"({alone['bytes'] / 1e6:,.0f} MB) {alone['seconds']:.1f} s (loading "
        f"{alone['load_seconds']:.1f} s, indexes {alone['index_seconds']:.1f} s, vacuum "
        f"{alone['vacuum_seconds']:.1f} s). CPU: the replay {_cpu(r)}; the database "
        f"alone {_cpu(alone)}."
        f"\nlag at {lag['rate']} reports/s (the audit chain of the imported log built "
        f"first, in {lag['chain_catch_up_seconds']:.1f} s): p50 {lag['p50_ms']:.1f} ms, "
        f"{lag['projected']:,} of {lag['submitted']:,} projected within the answer "
        f"(5 s), after the first 2 s p50 {lag['settled_p50_ms']:.1f} ms and p99 "
        f"{lag['settled_p99_ms']:.1f} ms; the projector caught up "
        f"{lag['catch_up_seconds']:.1f} s after the last; "
        f"commit alone p50 {lag['baseline_commit']['p50_ms']:.1f} ms; answers over 100 ms "
        f"by second sent {lag['over_100_ms_by_second'] or 'none'}; autovacuum meanwhile on "
        f"{', '.join(lag['autovacuum_meanwhile']) or 'nothing'}; "
        f"{lag['checkpoints_meanwhile']} checkpoints completed meanwhile, at most "
        f"{lag['dirty_page_cache_max_mb']:,} MB of dirty page cache; the projector busy "
        f"{lag['projector_busy']['busy_share']:.0%} of the phase, "
        f"{lag['projector_busy']['batch_ms_per_event']:.1f} ms of batch time per report."
        f"\nreads over {reads['firms']:,} firms, {reads['clients']} clients: profile p50 "
        f"{reads['profile_p50_ms']:.1f} ms, search p50 {reads['search_p50_ms']:.1f} ms."
        "\nreads offered at a steady rate, timed from when each was due: "
        + "; ".join(
            f"{s['offered_per_s']:,} reads/s ({s['answered_per_s']:,.0f} answered/s): profile "
            f"p50 {s['profile_p50_ms']:.1f} / p99 {s['profile_p99_ms']:.1f} ms, search p50 "
            f"{s['search_p50_ms']:.1f} / p99 {s['search_p99_ms']:.1f} ms, /health/live p50 "
            f"{s['baseline_health_p50_ms']:.1f} / p99 {s['baseline_health_p99_ms']:.1f} ms"
            for s in reads["steady"]
        )
        + "."
    )
    return "\n".join(lines) + "\n" + extra


def _cpu(measured: dict[str, Any]) -> str:
    server = measured["database_cpu_seconds"]
    return f"{measured['own_cpu_seconds']:.1f} s in the bench's process and " + (
        f"{server:.1f} s in PostgreSQL" if server is not None else "PostgreSQL's not seen"
    )


def machine() -> dict[str, Any]:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def measure_api(
    app: Watchlist,
    database: Database,
    master_key: bytes,
    work: Path,
    members: list[Member],
    data: Dataset,
    size: dict[str, int],
) -> dict[str, Any]:
    """Lag, reads and ingest through `watchlist serve`, with `watchlist projector` beside it."""
    results: dict[str, Any] = {}
    services = Services(database, master_key, work)
    try:
        # The replay built the read models, not the audit chain: the projector chains the
        # imported log (a step at a time, see projector/chain.py) before the lag is measured.
        chained = caught_up(database, 1800)
        log(f"projector chained the log in {chained:.1f} s")
        mark = services.projector_log.stat().st_size
        results["lag"] = measure_lag(services.port, members, data, size["lag"], database)
        results["lag"]["chain_catch_up_seconds"] = chained
        busy, slow = services.batches(mark, size["lag"])
        results["lag"]["projector_busy"], results["lag"]["projector_slow_batches"] = busy, slow
        log(f"lag: p99 {results['lag']['p99_ms']:.1f} ms")
        results["lag"]["catch_up_seconds"] = caught_up(database, 1800)
        results["lag"]["baseline_commit"] = measure_commit_latency(
            services.port, members, data, size["lag"]
        )
        caught_up(database, 1800)
        log("projector caught up; reads")
        results["reads"] = measure_reads(services.port, members[0], database, data, size["reads"])
        log(f"reads: {results['reads']['requests_per_s']:,.0f} requests/s")
        # The write path alone: the projector would share the two cores with it.
        services.stop_projector()
        results["api_ingest"] = measure_ingest(app, services.port, members, data, size["ingest"])
        log(f"api ingest: {results['api_ingest']['reports_per_s']:,.0f} reports/s")
    finally:
        services.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the README's sizes (long)")
    parser.add_argument("--database-url", help="a server to create the bench database on")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reports", type=int, help="override the size's number of reports")
    args = parser.parse_args()
    size = dict(SIZES["full" if args.full else "small"])
    if args.reports:
        size |= {"reports": args.reports, "firms": max(10, args.reports * 3 // 10)}
    data = Dataset(args.seed, organisations=ORGANISATIONS, firms=size["firms"])
    operations = list(data.operations(size["reports"]))
    # The data set is millions of objects that live to the end: left to the cyclic garbage
    # collector, each full collection walks them all, for seconds, holding the GIL while a
    # worker's transaction waits to commit (PostgreSQL ends it after 5 s idle). Freeze them.
    gc.freeze()
    results: dict[str, Any] = {"size": "full" if args.full else "small", "machine": machine()}
    master_key = secrets.token_bytes(32)
    with fresh_database(args.database_url) as database, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results["database"] = "external" if args.database_url else "embedded"
        with psycopg.connect(database.url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            results["machine"]["postgresql"] = row[0] if row else ""
        app = Watchlist(
            database.eventsourcing_env(), taxonomy=load_taxonomy(), master_key=master_key
        )
        members = register_members(app)
        log(f"dataset: {len(operations):,} operations over {size['firms']:,} firms")
        results["import"] = measure_import(app, members, operations, work)
        log(f"import: {results['import']['reports_per_s']:,.0f} reports/s")
        changes = apply_changes(app, members, operations)
        log(f"applied {changes:,} amendments and retractions")
        results["replay"] = measure_replay(database)
        log(f"replay: {results['replay']['events_per_s']:,.0f} events/s")
        try:
            results |= measure_api(app, database, master_key, work, members, data, size)
        finally:
            app.close()
        database_alone(results["replay"], database, work)
        log(
            "the database alone: "
            f"{results['replay']['baseline_database_events_per_s']:,.0f} events/s"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(table(results))
    print(f"\nresults: {args.out}")


if __name__ == "__main__":
    main()
