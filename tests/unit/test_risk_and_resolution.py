"""The pure parts of the projector: risk model v1 and firm resolution."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from uuid import UUID, uuid4

import msgspec
import pytest

from projector.model import ReportState
from projector.profile import Profile, packed, profile_of, served
from projector.resolution import resolve
from projector.risk import assess, level_for
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.domain.contract import ReportContent
from watchlist.runtime import load_taxonomy

TAXONOMY = load_taxonomy()
NOW = datetime(2026, 10, 3, tzinfo=UTC)


def report(
    org: UUID, position: int, *, indicators=None, reliability="A", status="active"
) -> ReportState:
    body = copy.deepcopy(EXAMPLE_REPORT)
    body.pop("confidential")
    body["source"]["reliability"] = reliability
    if indicators is not None:
        body["indicators"] = [{"code": c, "grade": g} for c, g in indicators]
    return ReportState(
        report_id=uuid4(),
        organisation_id=org,
        status=status,
        content=msgspec.convert(body, ReportContent),
        submitted_at=NOW,
        updated_at=NOW,
        first_position=position,
        last_position=position,
    )


def test_an_organisation_counts_once_per_indicator_however_often_it_reports():
    org = uuid4()
    once = assess([report(org, 1, indicators=[("no_licence", "confirmed")])], TAXONOMY)
    twice = assess(
        [
            report(org, 1, indicators=[("no_licence", "confirmed")]),
            report(org, 2, indicators=[("no_licence", "confirmed")]),
        ],
        TAXONOMY,
    )
    two_orgs = assess(
        [
            report(uuid4(), 1, indicators=[("no_licence", "confirmed")]),
            report(uuid4(), 2, indicators=[("no_licence", "confirmed")]),
        ],
        TAXONOMY,
    )

    assert twice.score == once.score
    assert two_orgs.score == 2 * once.score
    assert [c.counted for c in twice.explanation] == [True, False]


def test_grade_and_reliability_scale_the_taxonomy_weight():
    weight = TAXONOMY.indicators["passport_to_agency"].weight
    confirmed_a = assess(
        [report(uuid4(), 1, indicators=[("passport_to_agency", "confirmed")])], TAXONOMY
    )
    suspected_d = assess(
        [report(uuid4(), 1, indicators=[("passport_to_agency", "suspected")], reliability="D")],
        TAXONOMY,
    )

    assert confirmed_a.score == weight
    assert suspected_d.score == pytest.approx(weight * 0.3 * 0.5, abs=0.01)


def test_retracted_reports_count_zero_but_stay_in_the_explanation():
    kept = report(uuid4(), 1, indicators=[("no_licence", "confirmed")])
    retracted = report(
        uuid4(), 2, indicators=[("forged_documents", "confirmed")], status="retracted"
    )

    assessment = assess([kept, retracted], TAXONOMY)

    assert assessment.score == TAXONOMY.indicators["no_licence"].weight
    zero = [c for c in assessment.explanation if c.report_id == retracted.report_id]
    assert [(c.points, c.counted) for c in zero] == [(0.0, False)]


@pytest.mark.parametrize(
    ("score", "level"),
    [(0, "none"), (0.5, "low"), (4.99, "low"), (5, "medium"), (12, "high"), (25, "critical")],
)
def test_levels_at_documented_thresholds(score, level):
    assert level_for(score) == level


def test_resolution_ignores_the_order_its_input_arrives_in():
    reports = [(uuid4(), n) for n in range(30)]
    rng = random.Random(1)
    keys = {r: [f"phone:{rng.randrange(12)}"] for r, _ in reports}
    separations = [(reports[0][0], reports[5][0])]

    first = resolve(reports, keys, [], separations)
    shuffled = reports[:]
    rng.shuffle(shuffled)

    assert resolve(shuffled, keys, [], separations) == first
    assert first[reports[0][0]] != first[reports[5][0]]
    assert all(
        first[r]
        == min((x for x, f in first.items() if f == first[r]), key=dict(reports).__getitem__)
        for r, _ in reports
    )


def test_links_join_and_separations_part_firms_that_share_keys():
    a, b, c = (uuid4() for _ in range(3))
    reports = [(a, 1), (b, 2), (c, 3)]

    linked = resolve(reports, {}, [(a, c)], [])
    apart = resolve(reports, {a: ["k"], b: ["k"]}, [], [(a, b)])

    assert linked == {a: a, b: b, c: a}
    assert apart == {a: a, b: b, c: c}


def test_a_stored_profile_is_served_whole_at_the_position_asked_for():
    org = uuid4()
    states = [report(org, 3), report(uuid4(), 9, reliability="C")]
    profile = profile_of(states[0].report_id, states, [], TAXONOMY, 9)
    stored = packed(profile)
    assert len(stored) < len(msgspec.json.encode(profile))
    answer = msgspec.json.decode(served(stored, 1234), type=Profile)
    assert answer == msgspec.structs.replace(profile, as_of_position=1234)
