"""The firm page's chart: reports per month, stacked by organisation."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from projector.queries import TimelineItem
from watchlist.web.chart import HEIGHT, reports_by_month


def item(month: int, organisation: str, kind: str = "submitted") -> TimelineItem:
    return TimelineItem(
        position=month,
        time=datetime(2026, month, 3, tzinfo=UTC),
        kind=kind,
        organisation_id=uuid4(),
        organisation=organisation,
        report_id=uuid4(),
        summary="",
    )


def test_reports_stack_by_month_and_organisation_and_nothing_else_counts():
    chart = reports_by_month(
        [
            item(9, "Almaty hotline"),
            item(10, "Almaty hotline"),
            item(10, "Shymkent legal centre"),
            item(10, "Shymkent legal centre", kind="retracted"),
        ]
    )

    assert [month for _, month in chart.months] == ["2026-09", "2026-10"]
    assert [n for _, _, n in chart.totals] == [1, 2]
    assert chart.total == 3
    assert [org for org, _ in chart.legend] == ["Almaty hotline", "Shymkent legal centre"]
    october = [b for b in chart.blocks if b.label.startswith("2026-10")]
    assert sum(b.height for b in october) == HEIGHT  # the busiest month fills the height
    assert len({b.colour for b in october}) == 2


def test_a_firm_without_reports_draws_an_empty_chart():
    chart = reports_by_month([])

    assert chart.blocks == []
    assert chart.total == 0
