"""The live projector remembers report states only while they are the reports' latest."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import msgspec

from projector.model import ReportState
from projector.timelines import StateCache
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.domain.contract import ReportBody

CONTENT = msgspec.convert(EXAMPLE_REPORT, ReportBody).content()
NOW = datetime(2026, 11, 28, tzinfo=UTC)


def _state(last: int) -> ReportState:
    return ReportState(
        report_id=uuid4(),
        organisation_id=uuid4(),
        status="active",
        content=CONTENT,
        submitted_at=NOW,
        updated_at=NOW,
        first_position=1,
        last_position=last,
    )


def test_a_state_is_given_back_only_as_of_the_reports_last_position():
    cache = StateCache(10)
    state = _state(7)
    cache.remember([state])

    assert cache.get(state.report_id, 7) is state
    assert cache.get(state.report_id, 9) is None  # the report changed since: fold it again
    assert cache.get(uuid4(), 7) is None


def test_the_least_recently_used_states_are_forgotten_first():
    cache = StateCache(2)
    a, b, c = _state(1), _state(2), _state(3)
    cache.remember([a, b])
    assert cache.get(a.report_id, 1) is a  # a is now the most recently used

    cache.remember([c])

    assert cache.get(b.report_id, 2) is None
    assert cache.get(a.report_id, 1) is a
    assert cache.get(c.report_id, 3) is c
