"""How long the audit trail takes on a large log: chain, verify, export, verify offline.

    .venv/bin/python bench/audit_chain.py [--events 100000] [--database-url URL]

Builds a fresh database (embedded unless --database-url names a server whose
`postgres` database it may create databases from), appends reports in
batches of 500 per transaction, chains them, then times each auditor's step.
"""

from __future__ import annotations

import argparse
import copy
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import msgspec
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import fresh_database

from projector.audit import export_lines, verify_database
from projector.chain import Chain
from projector.chain import ensure_tables as ensure_chain_tables
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.application import Watchlist
from watchlist.audit.verify import verify_lines
from watchlist.database import Database
from watchlist.domain.contract import ReportBody
from watchlist.domain.report import Report
from watchlist.runtime import load_taxonomy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with fresh_database(args.database_url) as database:
        run(database, args.events)


def run(database: Database, count: int) -> None:
    app = Watchlist(
        database.eventsourcing_env(), taxonomy=load_taxonomy(), master_key=secrets.token_bytes(32)
    )
    organisation = app.register_organisation("Bench hotline", "KZ")
    key = app.issue_key(organisation, "reporter")
    body = msgspec.convert(copy.deepcopy(EXAMPLE_REPORT) | {"confidential": None}, ReportBody)
    started = time.perf_counter()
    remaining = count - 2
    while remaining > 0:
        size = min(500, remaining)
        reports = [
            Report.submit(
                id=uuid4(),
                organisation_id=organisation,
                key_id=key.key_id,
                content=body.content(),
                confidential=None,
            )
            for _ in range(size)
        ]
        app.save(*reports)
        remaining -= size
    append = time.perf_counter() - started
    app.close()
    signer = Ed25519PrivateKey.generate()
    results: dict[str, float] = {"append": append}
    with psycopg.connect(database.url, autocommit=True) as conn:
        ensure_chain_tables(conn)
        started = time.perf_counter()
        chain = Chain(signer, every=1000)
        for up_to in range(1000, count + 1000, 1000):  # as the projector does, batch by batch
            with conn.transaction():
                chain.extend(conn, up_to=up_to)
        results["chain"] = time.perf_counter() - started
        started = time.perf_counter()
        verdict = verify_database(conn, signer.public_key())
        results["verify database"] = time.perf_counter() - started
        assert verdict.ok, verdict
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "export.ndjson"
            started = time.perf_counter()
            with path.open("w") as out:
                for line in export_lines(conn):
                    out.write(line + "\n")
            results["export"] = time.perf_counter() - started
            started = time.perf_counter()
            with path.open("rb") as lines:
                offline = verify_lines(lines, signer.public_key())
            results["verify offline"] = time.perf_counter() - started
            size = path.stat().st_size
    assert offline.ok, offline
    print(f"{verdict}\n{offline}")
    print(
        json.dumps(
            {"events": verdict.events, "export_bytes": size}
            | {f"{k} seconds": round(v, 2) for k, v in results.items()}
            | {f"{k} events/s": round(verdict.events / v) for k, v in results.items()},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
