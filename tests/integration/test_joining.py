"""New reports that join their firm as it stands: the live read models still equal a
replay's, row for row, through private views, merges, amendments and retractions."""

from __future__ import annotations

import copy
import random
import secrets

import msgspec
import psycopg
from test_rebuild_agrees import _compare, _wait

from projector import tables
from projector.following import decode, event_recorder
from projector.projection import Projection
from projector.rebuild import build, dump
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.domain.contract import ReportBody
from watchlist.runtime import load_taxonomy

CODES = sorted(load_taxonomy().indicators)[:5]


def _body(rnd: random.Random, names, phones=(), sharing="partners") -> ReportBody:
    body = copy.deepcopy(EXAMPLE_REPORT)
    body["subject"] = {
        "names": list(names),
        "country": "KZ",
        "identifiers": [{"kind": "phone", "value": p} for p in phones],
    }
    body["sharing"] = sharing
    body["source"]["reliability"] = rnd.choice("ABCE")
    body["indicators"] = [
        {"code": c, "grade": rnd.choice(["confirmed", "reported", "suspected"])}
        for c in rnd.sample(CODES, rnd.randint(1, 3))
    ]
    body["incident"]["date"] = f"2026-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}"
    return msgspec.convert(body, ReportBody)


def _one_at_a_time(database, watchlist, principal, body):
    """Submit and wait until the projector has it: a batch of one report."""
    recorded = watchlist.submit_report(principal, body)
    with psycopg.connect(database.url, autocommit=True) as conn:
        _wait(conn, recorded.position)
    return recorded


def test_reports_joining_firms_one_by_one_agree_with_a_replay(
    projector, new_member, database, watchlist
):
    rnd = random.Random(2026)
    tag = secrets.token_hex(3)
    digits = f"{rnd.randrange(10**4):04d}"
    members = [new_member(f"Centre {n} {tag}") for n in range(4)]
    reporters = [watchlist.authenticate(m.keys["reporter"]) for m in members]
    sky = [f"Sky {tag} Jobs", f"ТОО «Скай {tag} Джобс»"]
    sea = [f"Sea {tag} Travel"]
    sky_phone, sea_phone = f"+7 701 71{digits} 1", f"+7 701 72{digits} 2"
    joined_before = projector.runner.projection.joined

    def submit(n, names, phones=(), sharing="partners"):
        body = _body(rnd, names, phones, sharing)
        return _one_at_a_time(database, watchlist, reporters[n % 4], body)

    first = submit(0, sky[:1], [sky_phone])
    submit(1, sky[1:], [sky_phone])  # the other script, the same phone
    submit(2, sky[:1], sharing="private")  # a private view of Sky for centre 2
    for n in range(6):  # Sky grows, seen in the partners' view and centre 2's
        submit(n, [rnd.choice(sky), f"Sky {tag} Jobs {n}"], [sky_phone] if n % 2 else ())
    sea_first = submit(3, sea, [sea_phone])
    for n in range(3):
        submit(n, sea)
    # One of centre 1's reports is retracted, another amended: the long way, then joining.
    retract = submit(1, sky[:1])
    watchlist.retract_report(reporters[1], retract.id, "a caller named another agency")
    amend = submit(1, sky[:1])
    watchlist.amend_report(reporters[1], amend.id, 1, _body(rnd, sky[1:], [sky_phone]), "phone")
    submit(0, sky)
    # Centre 3's private report on a recruiter no one else knows, then a shared report
    # that names it beside Sky: centre 3 sees one firm from then on. The long way.
    quiet_phone = f"+7 701 73{digits} 3"
    submit(3, [f"Quiet {tag} Agency"], [quiet_phone], sharing="private")
    bridge = submit(0, sky[:1], [quiet_phone])
    diffs = _compare(database, watchlist, bridge.position)
    assert diffs == {}, diffs
    # The same through a private report: centre 1's view of Sky begins. The long way.
    hush_phone = f"+7 701 75{digits} 5"
    submit(1, [f"Hush {tag} Agency"], [hush_phone], sharing="private")
    bridge = submit(1, sky[:1], [hush_phone], sharing="private")
    diffs = _compare(database, watchlist, bridge.position)
    assert diffs == {}, diffs
    submit(2, sky[1:], sharing="private")  # joins Sky in centre 2's view alone
    submit(1, sky[1:])
    # A report with both phones makes one firm of Sky and Sea: the long way.
    both = submit(2, [f"Sky and Sea {tag}"], [sky_phone, sea_phone])
    last = submit(3, sea)

    diffs = _compare(database, watchlist, last.position)
    assert diffs == {}, diffs
    with psycopg.connect(database.url) as conn:
        schema = tables.schema_name(tables.live_generation(conn))
        firms = conn.execute(
            f'SELECT view, firm_id, count(*) FROM "{schema}".memberships '
            "WHERE report_id IN (%s, %s, %s) GROUP BY view, firm_id",
            (first.id, sea_first.id, both.id),
        ).fetchall()
    # Sky (the first report's firm) holds Sea now, in every view.
    assert sorted(firms) == sorted(
        [
            ("partners", first.id, 3),
            (str(members[2].organisation_id), first.id, 3),
            (str(members[3].organisation_id), first.id, 3),
            (str(members[1].organisation_id), first.id, 3),
        ]
    )
    # Most reports joined their firm as it stood.
    assert projector.runner.projection.joined - joined_before >= 14


def test_one_batch_of_reports_joining_firms_agrees_with_a_replay(new_member, database, watchlist):
    """Several new reports in one batch, as a projector behind the log takes them: two
    join one firm through different keys (the second goes the long way), two share a
    key with each other, one makes a firm of its own, one is private; then the whole log
    replayed agrees with the read models, the vocabulary's counts included."""
    rnd = random.Random(7)
    tag = secrets.token_hex(3)
    members = [new_member(f"Hotline {n} {tag}") for n in range(3)]
    reporters = [watchlist.authenticate(m.keys["reporter"]) for m in members]
    sky, sea = [f"Sky {tag} Jobs"], [f"Sea {tag} Travel"]
    phone = f"+7 701 74{rnd.randrange(10**5):05d}"
    for n in range(3):
        watchlist.submit_report(reporters[n], _body(rnd, sky, [phone]))
    watchlist.submit_report(reporters[2], _body(rnd, sky, sharing="private"))
    before = watchlist.submit_report(reporters[0], _body(rnd, sea)).position
    batch = [
        (0, sky, [], "partners"),  # joins Sky
        (0, [f"Other {tag} Name"], [phone], "partners"),  # joins Sky too: the long way
        # Joins Sea, and brings it a word ("lone") that the next report's new firm brings too:
        # the vocabulary counts the word's two firms (one statement writes both).
        (0, [*sea, f"Lone {tag} Travel"], [], "partners"),
        (2, [f"Lone {tag} Agency"], [], "partners"),  # a firm of its own
        (1, [f"Wave {tag} Agency"], [], "partners"),  # these two share a key:
        (2, [f"Wave {tag} Agency", f"Wave {tag} LLP"], [], "partners"),  # the long way
        (1, [f"Delta {tag}"], [], "private"),  # a firm of its own, in one view
    ]
    last = 0
    for n, names, phones, sharing in batch:
        body = _body(rnd, names, phones, sharing)
        last = watchlist.submit_report(reporters[n], body).position

    recorder = event_recorder(database)
    projection = Projection(watchlist.taxonomy)
    try:
        with psycopg.connect(database.url, autocommit=True) as conn:
            partial, _, _ = build(conn, recorder, Projection(watchlist.taxonomy), up_to=before)
            whole, at, _ = build(conn, recorder, Projection(watchlist.taxonomy), up_to=last)
            try:
                events = decode(
                    recorder.select_notifications(
                        start=before, limit=100, stop=last, inclusive_of_start=False
                    )
                )
                with conn.transaction():
                    tables.use_generation(conn, partial)
                    projection.apply(conn, events)
                assert at == last
                assert dump(conn, partial) == dump(conn, whole)
            finally:
                tables.drop_generation(conn, partial)
                tables.drop_generation(conn, whole)
    finally:
        recorder.datastore.close()
    # Sky, Sea, Lone and Delta (in its organisation's view); the rest the long way.
    assert projection.joined == 4
