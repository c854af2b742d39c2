"""The Report aggregate on its own: facts in, state out, refusals as domain errors."""

from __future__ import annotations

from uuid import uuid4

import msgspec
import pytest

from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.domain.contract import ReportBody
from watchlist.domain.errors import ReportAlreadyRetracted, VersionMismatch
from watchlist.domain.report import Report, ReportAmended, ReportRetracted, ReportSubmitted


def _report() -> Report:
    body = msgspec.convert(EXAMPLE_REPORT, ReportBody)
    return Report.submit(
        id=uuid4(),
        organisation_id=uuid4(),
        key_id=uuid4(),
        content=body.content(),
        confidential=None,
    )


def test_submitted_report_is_active_at_version_one():
    report = _report()

    events = report.collect_events()

    assert report.version == 1
    assert report.status == "active"
    assert [type(e) for e in events] == [ReportSubmitted]
    assert events[0].content.subject.names[0] == "ТОО «Рай за границей»"


def test_amendment_replaces_the_content_and_keeps_the_reason():
    report = _report()
    new = msgspec.structs.replace(report.content, narrative="asked for a $500 fee")

    report.amend(
        expected_version=1, key_id=uuid4(), content=new, confidential=None, reason="second call"
    )

    amended = report.collect_events()[-1]
    assert isinstance(amended, ReportAmended)
    assert amended.reason == "second call"
    assert report.content.narrative == "asked for a $500 fee"
    assert report.version == 2


def test_stale_version_is_refused():
    report = _report()

    with pytest.raises(VersionMismatch) as refused:
        report.amend(
            expected_version=7,
            key_id=uuid4(),
            content=report.content,
            confidential=None,
            reason="x",
        )

    assert (refused.value.expected, refused.value.actual) == (7, 1)
    assert report.version == 1


def test_retracted_report_takes_no_amendment_and_no_second_retraction():
    report = _report()
    report.retract(key_id=uuid4(), reason="wrong agency")

    with pytest.raises(ReportAlreadyRetracted):
        report.amend(
            expected_version=2,
            key_id=uuid4(),
            content=report.content,
            confidential=None,
            reason="x",
        )
    with pytest.raises(ReportAlreadyRetracted):
        report.retract(key_id=uuid4(), reason="again")

    events = report.collect_events()
    assert [type(e) for e in events] == [ReportSubmitted, ReportRetracted]
    assert report.retraction_reason == "wrong agency"


def test_events_are_immutable():
    event = _report().collect_events()[0]

    with pytest.raises(AttributeError):
        event.originator_version = 5  # type: ignore[misc]


def test_replaying_the_events_rebuilds_the_same_report():
    report = _report()
    report.retract(key_id=uuid4(), reason="wrong agency")
    events = report.collect_events()

    rebuilt = None
    for event in events:
        rebuilt = event.mutate(rebuilt)

    assert rebuilt is not None
    assert (rebuilt.id, rebuilt.version, rebuilt.status, rebuilt.content) == (
        report.id,
        report.version,
        report.status,
        report.content,
    )
