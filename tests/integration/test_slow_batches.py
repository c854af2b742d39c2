"""The projector says which batches were slow, and where their time went."""

from __future__ import annotations

import logging
import re

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import SIGNING_SEED, example_report, own_log, projected_to_head
from projector.chain import Chain
from projector.runner import ProjectorRunner
from watchlist.database import Database
from watchlist.domain.contract import ReportBody

SLOW = re.compile(
    r"slow batch: (\d+) events up to position (\d+) in (\d+) ms \(start (\d+), apply (\d+), "
    r"of which (\d+) reports joined their firm in place; chain (\d+); "
    r"last writes and commit (\d+)\)"
)


def _project(database: Database, slow_batch_seconds: float) -> int:
    """A log of an organisation, its key and three reports, followed by a projector whose
    batches are slow beyond ``slow_batch_seconds``: the log's head."""
    with own_log(database, "watchlist_slow_", "Slow batch hotline") as (db, app, reporter):
        for _ in range(3):
            app.submit_report(reporter, msgspec.convert(example_report(), ReportBody))
        chain = Chain(Ed25519PrivateKey.from_private_bytes(SIGNING_SEED), every=10, seconds=60)
        runner = ProjectorRunner(
            db, app.taxonomy, chain, poll_interval=0.1, slow_batch_seconds=slow_batch_seconds
        )
        return projected_to_head(runner, db)


def test_every_batch_over_the_threshold_is_logged_with_its_phases(database, caplog):
    with caplog.at_level(logging.WARNING, logger="projector.runner"):
        head = _project(database, slow_batch_seconds=0)

    found = [SLOW.fullmatch(r.getMessage()) for r in caplog.records if "slow batch" in r.message]
    assert found, caplog.text
    assert all(found), caplog.text
    assert sum(int(m[1]) for m in found) == head  # every event of the log, in some batch
    assert max(int(m[2]) for m in found) == head
    for m in found:
        total, phases = int(m[3]), [int(m[i]) for i in (4, 5, 7, 8)]
        assert sum(phases) - len(phases) <= total <= sum(phases) + len(phases)  # rounding


def test_batches_under_the_threshold_are_not_logged(database, caplog):
    with caplog.at_level(logging.WARNING, logger="projector.runner"):
        _project(database, slow_batch_seconds=60)

    assert [r.getMessage() for r in caplog.records if "slow batch" in r.getMessage()] == []
