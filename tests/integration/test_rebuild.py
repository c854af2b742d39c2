"""Read models are disposable and deterministic: the log always rebuilds them, row for row."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter

import psycopg
import pytest

from projector import identity, tables
from projector.following import event_recorder
from projector.projection import Projection
from projector.rebuild import build, dump, rebuild
from projector.runner import tracked_position
from watchlist.api.examples import EXAMPLE_REPORT


def _firm(client, member, names, phone=None):
    subject = {"names": names, "country": "KZ"}
    if phone:
        subject["identifiers"] = [{"kind": "phone", "value": phone}]
    response = client.post(
        "/v1/reports", json=EXAMPLE_REPORT | {"subject": subject}, headers=member.headers()
    )
    assert response.json()["projected"] is True
    return response.json()["firm_id"]


def _decisions(client, member, tag):
    """A link and a separation, so that a rebuild must replay both."""
    a = _firm(client, member, [f"Rebuild Link A{tag}"])
    b = _firm(client, member, [f"Rebuild Link B{tag}"])
    c = _firm(client, member, [f"Rebuild Apart C{tag}"])
    d = _firm(client, member, [f"Rebuild Apart D{tag}"])
    investigator = member.headers("investigator")
    assert (
        client.post(
            "/v1/firms/links",
            json={"firm_ids": [a, b], "reason": "same office"},
            headers=investigator,
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/v1/firms/separations",
            json={"firm_ids": [c, d], "reason": "not one"},
            headers=investigator,
        ).status_code
        == 201
    )
    _firm(client, member, [f"Rebuild Apart C{tag}"], f"+7 701 000 00 {tag}")
    _firm(client, member, [f"Rebuild Apart D{tag}"], f"+7 701 000 00 {tag}")
    return a, b, c, d


def test_rebuild_matches_the_live_read_models_row_for_row_twice(
    client, member, other_member, database, watchlist
):
    _decisions(client, member, 11)
    client.post(
        "/v1/reports", json=EXAMPLE_REPORT | {"sharing": "private"}, headers=other_member.headers()
    )
    recorder = event_recorder(database)
    try:
        with psycopg.connect(database.url, autocommit=True) as conn:
            live = tables.live_generation(conn)
            assert live is not None
            first, at_first, _ = build(conn, recorder, Projection(watchlist.taxonomy))
            second, at_second, _ = build(conn, recorder, Projection(watchlist.taxonomy))
            try:
                assert at_first == at_second == tracked_position(conn)
                live_rows, first_rows = dump(conn, live), dump(conn, first)
                assert first_rows == dump(conn, second)
                for table in live_rows:
                    assert live_rows[table] == first_rows[table], table
                assert len(first_rows["firms"]) >= 4
                # The name search's words, and a vocabulary counting exactly those rows.
                words = Counter((row[0], row[2]) for row in first_rows["firm_words"])
                assert words
                assert {(v, w): n for v, w, n in first_rows["name_words"]} == words
                assert {row[2] for row in first_rows["decisions"]} == {"linked", "separated"}
            finally:
                tables.drop_generation(conn, first)
                tables.drop_generation(conn, second)
    finally:
        recorder.datastore.close()


def _generations(database):
    with psycopg.connect(database.url, autocommit=True) as conn:
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY 1",
            (f"{tables.SCHEMA_PREFIX}%",),
        ).fetchall()
        return tables.live_generation(conn), [name for (name,) in schemas]


@pytest.mark.parametrize(
    ("failing", "error"),
    [("forked", "second renderer failed"), ("rebuilding", "rendering failed here")],
)
def test_a_rebuild_whose_rendering_fails_leaves_the_live_read_models_alone(
    client, member, database, watchlist, monkeypatch, failing, error
):
    """Either of the two processes that render the firms fails: the rebuild says so, the
    read models in use stay, and the new generation, half filled, is gone."""
    for n in (15, 16):
        _firm(client, member, [f"Half Rendered {n}"], f"+7 701 000 00 {n}")
    rebuilding, real = os.getpid(), Projection.render

    def render(self, *args):
        if ("rebuilding" if os.getpid() == rebuilding else "forked") == failing:
            raise RuntimeError("rendering failed here")
        return real(self, *args)

    monkeypatch.setattr(Projection, "render", render)
    before = _generations(database)

    with pytest.raises(RuntimeError, match=error):
        rebuild(database, watchlist.taxonomy)

    assert _generations(database) == before


def test_a_rebuild_whose_match_keys_fail_leaves_the_live_read_models_alone(
    client, member, database, watchlist, monkeypatch
):
    """The process that finds the replay's match keys fails on one phone: the rebuild says
    what failed, the read models in use stay, and no process is left behind."""
    _firm(client, member, ["Unkeyed 18"], "+7 701 000 00 18")
    real = identity.match_key

    def match_key(kind, value, country):
        if value == "+7 701 000 00 18":
            raise RuntimeError("no key for +7 701 000 00 18")
        return real(kind, value, country)

    # Inherited by the process forked to find the keys.
    monkeypatch.setattr(identity, "match_key", match_key)
    before = _generations(database)

    with pytest.raises(RuntimeError, match=r"no key for \+7 701 000 00 18"):
        rebuild(database, watchlist.taxonomy)

    assert _generations(database) == before
    assert multiprocessing.active_children() == []


def test_a_rebuild_leaves_no_process_behind(client, member, database, watchlist):
    _firm(client, member, ["Rebuilt Alone 19"], "+7 701 000 00 19")

    rebuilt = rebuild(database, watchlist.taxonomy)

    assert rebuilt.events > 0
    assert multiprocessing.active_children() == []


def test_a_failed_rebuild_stops_its_second_renderer_whatever_the_signal_handlers(
    client, member, database, watchlist, monkeypatch
):
    """`watchlist projector` answers SIGTERM by setting a flag, and a forked renderer
    inherits that until it sets its own: a rebuild that failed must not wait for it."""
    _firm(client, member, ["Stopped Renderer 17"], "+7 701 000 00 17")
    rebuilding, real = os.getpid(), Projection.render

    def render(self, *args):
        if os.getpid() == rebuilding:
            raise RuntimeError("rendering failed here")
        time.sleep(120)  # the forked renderer, unless it is stopped
        return real(self, *args)

    monkeypatch.setattr(Projection, "render", render)
    before = _generations(database)
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="rendering failed here"):
            rebuild(database, watchlist.taxonomy)
        took = time.monotonic() - started
    finally:
        signal.signal(signal.SIGTERM, previous)

    assert took < 60
    assert _generations(database) == before


def test_rebuild_swaps_in_while_the_api_serves_and_links_survive(
    client, member, database, watchlist
):
    a, b, c, d = _decisions(client, member, 12)
    headers = member.headers("investigator")
    before = client.get(f"/v1/firms/{a}", headers=headers).json()

    done = rebuild(database, watchlist.taxonomy)

    after = client.get(f"/v1/firms/{a}", headers=headers).json()
    assert done.replaced is not None
    assert done.generation != done.replaced
    assert after == before
    assert client.get(f"/v1/firms/{b}", headers=headers, follow_redirects=False).status_code == 308
    assert client.get(f"/v1/firms/{c}", headers=headers).json()["reports"]["total"] == 2
    assert client.get(f"/v1/firms/{d}", headers=headers).json()["reports"]["total"] == 2
    # The running projector carries on in the new generation.
    e = _firm(client, member, ["After the swap"])
    assert client.get(f"/v1/firms/{e}", headers=headers).status_code == 200


def test_a_rebuilt_generation_goes_live_vacuumed_and_analyzed(client, member, database, watchlist):
    """Autovacuum finds nothing to do in the new tables while the projector follows the log,
    and the planner has their statistics from the first query on."""
    _firm(client, member, ["Vacuumed Before Swap"], "+7 701 000 00 13")

    done = rebuild(database, watchlist.taxonomy)

    with psycopg.connect(database.url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT relname, last_vacuum IS NOT NULL, last_analyze IS NOT NULL "
            "FROM pg_stat_user_tables WHERE schemaname = %s",
            (tables.schema_name(done.generation),),
        ).fetchall()
    assert {name for name, _, _ in rows} >= {"firms", "memberships", "reports", "entries"}
    assert [name for name, vacuumed, _ in rows if not vacuumed] == []
    assert [name for name, _, analyzed in rows if not analyzed] == []


def test_a_rebuilt_generation_has_every_key_and_index_the_live_one_has(
    client, member, database, watchlist
):
    """A replay adds the primary keys and indexes after filling the tables; the projector's
    upserts and the API's reads then find the same ones as on a generation made whole."""
    _firm(client, member, ["Indexed After Replay"], "+7 701 000 00 14")

    def indexes(conn, generation):
        rows = conn.execute(
            "SELECT indexname, replace(indexdef, %s, 'g') FROM pg_indexes WHERE schemaname = %s",
            (tables.schema_name(generation), tables.schema_name(generation)),
        ).fetchall()
        return dict(rows)

    done = rebuild(database, watchlist.taxonomy)
    with psycopg.connect(database.url, autocommit=True) as conn:
        tables.ensure_pointer(conn)
        whole = tables.create_generation(conn)
        try:
            expected, rebuilt = indexes(conn, whole), indexes(conn, done.generation)
        finally:
            tables.drop_generation(conn, whole)
    assert "firms_pkey" in expected
    assert "memberships_by_firm" in expected
    assert expected["memberships_pkey"].endswith("(view, report_id)")
    assert rebuilt == expected


def test_projector_replays_read_models_built_in_an_older_format(
    client, member, database, projector
):
    firm = _firm(client, member, ["Format Change Travel"], "+7 701 909 17 43")
    with psycopg.connect(database.url, autocommit=True) as conn:
        old = tables.live_generation(conn)
        assert old is not None
        assert tables.format_of(conn, old) == tables.FORMAT
        projector.stop()
        # What a generation built before formats were recorded looks like.
        conn.execute(f"COMMENT ON SCHEMA {tables.schema_name(old)} IS NULL")
        assert tables.format_of(conn, old) is None
        projector.start()
        deadline = time.monotonic() + 60

        def old_schemas() -> int:
            found = conn.execute(
                "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (tables.schema_name(old),)
            ).fetchone()
            return int(found[0])

        # The swap moves the pointer, then drops the old generation.
        while old_schemas() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert old_schemas() == 0
        new = tables.live_generation(conn)
        assert new != old
        assert new is not None
        assert tables.format_of(conn, new) == tables.FORMAT
    profile = client.get(f"/v1/firms/{firm}", headers=member.headers())
    assert profile.status_code == 200
    assert "Format Change Travel" in profile.json()["names"]


def test_while_older_read_models_are_replaced_searches_answer_503_not_an_empty_list(
    client, member, database
):
    firm = _firm(client, member, ["Window Rebuild Travel"], "+7 701 909 55 61")
    with psycopg.connect(database.url, autocommit=True) as conn:
        schema = tables.schema_name(tables.live_generation(conn))
        # What the API meets in a generation of the format before name words.
        conn.execute(f'ALTER TABLE "{schema}".name_words RENAME TO name_words_hidden')
        try:
            search = client.get(
                "/v1/firms", params={"q": "Window Rebuild"}, headers=member.headers()
            )
            public = client.get("/v1/public/check", params={"q": "Window Rebuild"})
        finally:
            conn.execute(f'ALTER TABLE "{schema}".name_words_hidden RENAME TO name_words')
    for answer in (search, public):
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "10"
        assert answer.json()["title"] == "The read models are being rebuilt"
    found = client.get("/v1/firms", params={"q": "Window Rebuild"}, headers=member.headers())
    assert firm in [item["firm_id"] for item in found.json()["items"]]
