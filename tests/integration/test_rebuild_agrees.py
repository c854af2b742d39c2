"""The live projector, batch by batch, and a replay of the whole log agree row for row,
where they once did not."""

from __future__ import annotations

import copy
import secrets
import time

import msgspec
import psycopg
import pytest

from projector import tables
from projector.following import event_recorder
from projector.projection import Projection
from projector.rebuild import build, dump
from projector.runner import tracked_position
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.domain.contract import ReportBody


def _body(names, sharing="partners"):
    body = copy.deepcopy(EXAMPLE_REPORT)
    body["subject"] = {"names": names, "country": "KZ"}
    body["sharing"] = sharing
    return msgspec.convert(body, ReportBody)


def _wait(conn, position):
    deadline = time.monotonic() + 30
    while tracked_position(conn) < position:
        assert time.monotonic() < deadline, "projector did not catch up"
        time.sleep(0.05)


def _compare(database, watchlist, position):
    recorder = event_recorder(database)
    try:
        with psycopg.connect(database.url, autocommit=True) as conn:
            _wait(conn, position)
            live = tables.live_generation(conn)
            built, at, _ = build(conn, recorder, Projection(watchlist.taxonomy))
            try:
                assert at == tracked_position(conn)
                live_rows, built_rows = dump(conn, live), dump(conn, built)
                return {
                    t: (
                        sorted({repr(r) for r in live_rows[t]} - {repr(r) for r in built_rows[t]}),
                        sorted({repr(r) for r in built_rows[t]} - {repr(r) for r in live_rows[t]}),
                    )
                    for t in live_rows
                    if live_rows[t] != built_rows[t]
                }
            finally:
                tables.drop_generation(conn, built)
    finally:
        recorder.datastore.close()


def test_an_amendment_dropping_a_key_rejoins_reports_it_held_apart(
    projector, new_member, database, watchlist
):
    tag = secrets.token_hex(3)
    member = new_member()
    reporter = watchlist.authenticate(member.keys["reporter"])
    investigator = watchlist.authenticate(member.keys["investigator"])
    alpha, kappa = f"Alpha {tag} Works", f"Kappa {tag} Travel"
    a = watchlist.submit_report(reporter, _body([alpha]))
    c = watchlist.submit_report(reporter, _body([alpha, kappa]))  # first holder of kappa
    b = watchlist.submit_report(reporter, _body([f"Beta {tag} One"]))
    d = watchlist.submit_report(reporter, _body([f"Delta {tag} Two"]))
    watchlist.separate_firms(investigator, a.id, b.id, "not one")
    watchlist.separate_firms(investigator, a.id, d.id, "not one")
    # B and D now share kappa with C; both joins through C are refused (A apart B, A apart D)
    watchlist.amend_report(reporter, b.id, 1, _body([f"Beta {tag} One", kappa]), "more")
    last = watchlist.amend_report(reporter, d.id, 1, _body([f"Delta {tag} Two", kappa]), "more")
    assert _compare(database, watchlist, last.position) == {}  # agree so far
    # C drops kappa: B and D now join directly (global answer), but neither is C's firm-mate
    last = watchlist.amend_report(reporter, c.id, 1, _body([alpha]), "typo")
    diffs = _compare(database, watchlist, last.position)
    assert diffs == {}, {t: (len(live), len(built)) for t, (live, built) in diffs.items()}


def test_a_typed_backslash_u0000_stays_text_across_a_projector_restart(
    projector, new_member, database, watchlist
):
    """Six characters typed in a name (a backslash, then u0000) are text, not a NUL: kept
    in the stored timeline, so states read back equal states folded in memory."""
    tag = secrets.token_hex(3)
    member = new_member()
    reporter = watchlist.authenticate(member.keys["reporter"])
    name = f"Omega\\u0000 {tag} Agency"  # a backslash, then u0000: ordinary text
    first = watchlist.submit_report(reporter, _body([name]))
    with psycopg.connect(database.url, autocommit=True) as conn:
        _wait(conn, first.position)
    projector.stop()  # as a restart or the cache's LRU would: the state is forgotten
    projector.start()
    last = watchlist.submit_report(reporter, _body([name]))  # same firm, re-rendered
    diffs = _compare(database, watchlist, last.position)
    assert diffs == {}, diffs


@pytest.mark.parametrize(
    "odd",
    ["\\u0000", "\x00"],
    ids=["typed backslash u0000 stays text", "a NUL does not stop the projector"],
)
def test_an_organisations_odd_name_is_stored_alike_live_and_replayed(
    projector, database, watchlist, odd
):
    watchlist.register_organisation(f"Centre {odd} {secrets.token_hex(3)}", "KZ")
    with psycopg.connect(database.url, autocommit=True) as conn:
        head = conn.execute("SELECT max(notification_id) FROM watchlist_events").fetchone()[0]
    diffs = _compare(database, watchlist, head)
    assert diffs == {}, diffs


def test_a_word_no_firm_bears_any_longer_leaves_the_vocabulary_live_and_replayed(
    projector, new_member, database, watchlist
):
    tag = "".join(secrets.choice("bdgklmnprstvz") + secrets.choice("aeou") for _ in range(3))
    member = new_member()
    reporter = watchlist.authenticate(member.keys["reporter"])
    first = watchlist.submit_report(reporter, _body([f"Omicron{tag} Works"]))
    watchlist.amend_report(reporter, first.id, 1, _body([f"Upsilon{tag} Works"]), "typo")
    upsilon = _body([f"TOO Upsilon{tag} Works"], sharing="private")  # the same firm, privately
    last = watchlist.submit_report(reporter, upsilon)
    diffs = _compare(database, watchlist, last.position)

    with psycopg.connect(database.url) as conn:
        schema = tables.schema_name(tables.live_generation(conn))
        vocabulary = conn.execute(
            f'SELECT view, word, firms FROM "{schema}".name_words WHERE word LIKE %s '
            "ORDER BY view = 'partners', word",
            (f"%{tag}",),
        ).fetchall()
    assert diffs == {}, diffs
    # Omicron is gone; Upsilon names the firm in the partners' view and the reporter's own.
    assert vocabulary == [
        (str(member.organisation_id), f"upsilon{tag}", 1),
        ("partners", f"upsilon{tag}", 1),
    ]
