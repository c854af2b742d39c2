"""A report that joins a firm changes its stored profile to what rendering it anew gives."""

from __future__ import annotations

import copy
import random
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import msgspec
import pytest

from projector.model import Entry, ReportState
from projector.profile import joined, packed, profile_of, stored_profile
from projector.risk import with_report
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.domain.contract import LicenceCheck, ReportContent
from watchlist.runtime import load_taxonomy

TAXONOMY = load_taxonomy()
CODES = sorted(TAXONOMY.indicators)[:6]
START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _report(rnd: random.Random, position: int, orgs: list[UUID], status: str) -> ReportState:
    body = copy.deepcopy(EXAMPLE_REPORT)
    body.pop("confidential")
    tag = rnd.choice(["a", "b", "c"])
    body["subject"]["names"] = rnd.sample(
        [f"ТОО «Рай {tag}»", f"Rai {tag} LLP", "Рай за границей", "Rai"], rnd.randint(1, 3)
    )
    body["subject"]["identifiers"] = [
        {"kind": "phone", "value": rnd.choice(["+7 7252 300152", "8 7252 300153", "8 701 555"])}
    ]
    body["subject"]["websites"] = rnd.sample(["rai.kz", "rai-tour.kz"], rnd.randint(0, 2))
    body["source"]["reliability"] = rnd.choice("ABCDEF")
    body["indicators"] = [
        {"code": code, "grade": rnd.choice(["confirmed", "reported", "suspected"])}
        for code in rnd.sample(CODES, rnd.randint(1, 4))
    ]
    incident = body["incident"]
    incident["date"] = rnd.choice([None, str(date(2025, rnd.randint(1, 12), rnd.randint(1, 28)))])
    incident["destination_country"] = rnd.choice([None, "CY", "AE", "KR"])
    incident["job_offered"] = rnd.choice([None, "waitress", "nanny"])
    # Clocks of several API processes: a later report may carry an earlier time.
    moment = START + timedelta(minutes=position * 7 - rnd.randint(0, 30))
    return ReportState(
        report_id=uuid4(),
        organisation_id=rnd.choice(orgs),
        status=status,  # type: ignore[arg-type]
        content=msgspec.convert(body, ReportContent),
        submitted_at=moment,
        updated_at=moment,
        first_position=position,
        last_position=position,
    )


@pytest.mark.parametrize("seed", range(60))
def test_a_joining_report_gives_the_profile_the_firm_rendered_whole_has(seed):
    rnd = random.Random(seed)
    orgs = [uuid4() for _ in range(rnd.randint(1, 4))]
    states = [
        _report(rnd, 10 + 3 * n, orgs, rnd.choice(["active", "active", "retracted"]))
        for n in range(rnd.randint(1, 12))
    ]
    states[0].status = "active"  # a firm with an active report, as joined() requires
    facts = []  # a licence check weighs in after the reports, as stored
    if rnd.random() < 0.3:
        licence = LicenceCheck(
            status=rnd.choice(["none_found", "revoked", "valid"]),
            registry="enbek.kz",
            checked_on=date(2026, 1, 2),
        )
        facts.append(Entry(position=5, time=START, kind="licence_check", licence=licence))
    firm = states[0].report_id
    before = profile_of(firm, states, facts, TAXONOMY, states[-1].last_position)
    new = _report(rnd, states[-1].last_position + 5, orgs, "active")
    counted = any(s.status == "active" and s.organisation_id == new.organisation_id for s in states)

    after = joined(
        stored_profile(packed(before)),  # as the projector reads it back
        new,
        TAXONOMY,
        organisation_counted=counted,
        as_of_position=new.last_position,
    )

    whole = profile_of(firm, [*states, new], facts, TAXONOMY, new.last_position)
    assert after is not None
    assert packed(after) == packed(whole)


def test_a_firm_whose_reports_are_all_retracted_is_rendered_whole():
    rnd = random.Random(7)
    orgs = [uuid4()]
    gone = _report(rnd, 10, orgs, "retracted")
    profile = profile_of(gone.report_id, [gone], [], TAXONOMY, 10)
    new = _report(rnd, 20, orgs, "active")

    assert joined(profile, new, TAXONOMY, organisation_counted=False, as_of_position=20) is None


def test_a_later_weaker_report_of_the_same_organisation_counts_zero():
    rnd = random.Random(3)
    org = [uuid4()]
    strong = _report(rnd, 10, org, "active")
    weak = _report(rnd, 20, org, "active")
    weak.content = msgspec.structs.replace(
        weak.content,
        indicators=strong.content.indicators[:1],
        source=msgspec.structs.replace(weak.content.source, reliability="E"),
    )
    strong.content = msgspec.structs.replace(
        strong.content, source=msgspec.structs.replace(strong.content.source, reliability="A")
    )
    risk = profile_of(strong.report_id, [strong], [], TAXONOMY, 10).risk

    after = with_report(risk, weak, TAXONOMY)

    added = after.explanation[-1]
    assert (added.report_id, added.counted, added.points) == (weak.report_id, False, 0.0)
    assert "more strongly elsewhere" in added.note
    assert after.score == risk.score
