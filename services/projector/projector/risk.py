"""Risk model v2: a pure, versioned function of a firm's reports and licence checks.

Every point names the report and indicator it came from. It counts
independent organisations, not reports: an organisation adds an indicator's
points once, from its strongest report of it, however often it reports. The
evidence grade and the source's reliability scale the indicator's default
weight from the taxonomy. Retracted reports count zero. The latest licence
check weighs in: no licence found, or a revoked or suspended one, adds points
that name the check (v2; v1 had no licence checks).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from uuid import UUID

import msgspec

from projector.model import ReportState
from watchlist.domain.contract import LicenceCheck
from watchlist.domain.taxonomy import Taxonomy

MODEL_VERSION = "risk-v2"
Level = Literal["none", "low", "medium", "high", "critical"]
LEVELS: tuple[Level, ...] = ("none", "low", "medium", "high", "critical")
GRADE_FACTOR = {"confirmed": 1.0, "reported": 0.6, "suspected": 0.3}
# The admiralty scale's source reliability: A completely reliable ... E unreliable,
# F cannot be judged (weighed like a fairly unreliable source).
RELIABILITY_FACTOR = {"A": 1.0, "B": 0.9, "C": 0.75, "D": 0.5, "E": 0.3, "F": 0.5}
# Lowest score of each level above "none" (any positive score is at least "low").
THRESHOLDS: tuple[tuple[float, Level], ...] = ((25.0, "critical"), (12.0, "high"), (5.0, "medium"))


# Points for the latest licence check's status.
LICENCE_POINTS = {"none_found": 4.0, "revoked": 6.0, "suspended": 3.0, "valid": 0.0}


class Contribution(msgspec.Struct, frozen=True, kw_only=True):
    """Points from one report's indicator, or (``indicator`` "licence:<status>") a check."""

    report_id: UUID | None
    organisation_id: UUID | None
    indicator: str
    grade: str
    reliability: str
    weight: int
    points: float
    counted: bool
    note: str = ""


class Assessment(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    score: float
    level: Level
    explanation: list[Contribution]


# A pending dispute stays visible; an upheld report counts as before.
DISPUTE_NOTES = {
    "pending": "disputed by the firm: pending",
    "upheld": "dispute upheld",
    "corrected": "corrected after a dispute",
}


def level_for(score: float) -> Level:
    if score <= 0:
        return "none"
    for threshold, level in THRESHOLDS:
        if score >= threshold:
            return level
    return "low"


def assess(
    reports: Iterable[ReportState], taxonomy: Taxonomy, licence: LicenceCheck | None = None
) -> Assessment:
    ordered = sorted(reports, key=lambda r: r.first_position)
    candidates = [c for report in ordered for c in contributions(report, taxonomy)]
    # The strongest report of each (organisation, indicator) counts; ties go to the earliest.
    best: dict[tuple[UUID | None, str], Contribution] = {}
    for c in candidates:
        key = (c.organisation_id, c.indicator)
        if c.counted and (key not in best or c.points > best[key].points):
            best[key] = c
    kept = {id(c) for c in best.values()}
    explanation = [c if id(c) in kept or not c.counted else _outweighed(c) for c in candidates]
    if licence is not None:
        explanation.append(
            Contribution(
                report_id=None,
                organisation_id=None,
                indicator=f"licence:{licence.status}",
                grade="confirmed",
                reliability="A",
                weight=0,
                points=LICENCE_POINTS[licence.status],
                counted=True,
                note=f"{licence.registry}, checked {licence.checked_on.isoformat()}",
            )
        )
    return _assessment(explanation)


def with_report(assessment: Assessment, report: ReportState, taxonomy: Taxonomy) -> Assessment:
    """``assessment`` with the contributions of ``report``, a report later than any it
    weighed: what ``assess`` makes of those reports and this one.

    In an assessment each organisation's strongest contribution to an indicator is the
    one counted (the licence check, last, is no report's), so a later contribution
    counts only where it is stronger, and the one it outweighs then counts zero.
    """
    explanation = list(assessment.explanation)
    licence = explanation.pop() if explanation and explanation[-1].report_id is None else None
    best = {(c.organisation_id, c.indicator): i for i, c in enumerate(explanation) if c.counted}
    for c in contributions(report, taxonomy):
        key = (c.organisation_id, c.indicator)
        held = best.get(key)
        if c.counted and (held is None or c.points > explanation[held].points):
            if held is not None:
                explanation[held] = _outweighed(explanation[held])
            best[key] = len(explanation)
            explanation.append(c)
        else:
            explanation.append(_outweighed(c) if c.counted else c)
    if licence is not None:
        explanation.append(licence)
    return _assessment(explanation)


def _outweighed(contribution: Contribution) -> Contribution:
    return msgspec.structs.replace(
        contribution,
        points=0.0,
        counted=False,
        note="the same organisation reported this indicator more strongly elsewhere",
    )


def _assessment(explanation: list[Contribution]) -> Assessment:
    score = round(sum(c.points for c in explanation if c.counted), 2)
    return Assessment(
        model=MODEL_VERSION, score=score, level=level_for(score), explanation=explanation
    )


def contributions(report: ReportState, taxonomy: Taxonomy) -> list[Contribution]:
    """A report's points for each of its indicators, before its organisation's stronger
    reports are preferred. Kept on the report's state (a process has one taxonomy), so a
    report shown in many views of a firm is weighed once."""
    if report.contributions is not None:
        return report.contributions
    reliability = report.content.source.reliability
    retracted = report.status == "retracted"
    note = "retracted: counts zero" if retracted else DISPUTE_NOTES.get(report.dispute or "", "")
    found = []
    for indicator in report.content.indicators:
        known = taxonomy.indicators.get(indicator.code)
        weight = known.weight if known else 0
        points = (
            0.0
            if retracted
            else round(weight * GRADE_FACTOR[indicator.grade] * RELIABILITY_FACTOR[reliability], 2)
        )
        found.append(
            Contribution(
                report_id=report.report_id,
                organisation_id=report.organisation_id,
                indicator=indicator.code,
                grade=indicator.grade,
                reliability=reliability,
                weight=weight,
                points=points,
                counted=not retracted,
                note=note,
            )
        )
    report.contributions = found
    return found
