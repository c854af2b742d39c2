"""Firm reads answer in one statement: the same answers, whatever generation is live."""

from __future__ import annotations

import psycopg
import pytest

from projector import live, tables
from projector.runner import tracked_position


def _report(client, member, report_body, sharing="partners"):
    answer = client.post(
        "/v1/reports", json=report_body | {"sharing": sharing}, headers=member.headers()
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["projected"] is True
    return answer.json()


def _projected(database):
    with psycopg.connect(database.url) as conn:
        return tracked_position(conn)


def test_live_profile_is_the_profile_rebuilt_from_the_timeline_at_its_position(
    client, member, report_body, database
):
    firm = _report(client, member, report_body)["firm_id"]

    stored = client.get(f"/v1/firms/{firm}", headers=member.headers())
    position = stored.json()["as_of_position"]
    rebuilt = client.get(f"/v1/firms/{firm}", params={"as_of": position}, headers=member.headers())

    assert stored.status_code == 200
    assert stored.headers["content-type"] == "application/json"
    assert position == _projected(database)
    assert stored.json() == rebuilt.json()


def test_search_and_profile_say_which_position_they_reflect(client, member, report_body, database):
    firm = _report(client, member, report_body)["firm_id"]
    phone = report_body["subject"]["identifiers"][0]["value"]

    page = client.get("/v1/firms", params={"q": phone}, headers=member.headers()).json()
    browsed = client.get("/v1/firms", params={"limit": 1}, headers=member.headers()).json()
    nothing = client.get("/v1/firms", params={"q": "zzqx no such firm"}, headers=member.headers())

    assert [item["firm_id"] for item in page["items"]] == [firm]
    assert page["as_of_position"] == _projected(database)
    assert browsed["as_of_position"] == _projected(database)
    assert nothing.json() == {
        "items": [],
        "next_cursor": None,
        "as_of_position": _projected(database),
    }


def test_own_private_report_reshapes_only_the_own_view(client, member, other_member, report_body):
    shared = _report(client, member, report_body)
    private = _report(client, member, report_body, sharing="private")
    firm = shared["firm_id"]

    own = client.get(f"/v1/firms/{firm}", headers=member.headers()).json()
    others = client.get(f"/v1/firms/{firm}", headers=other_member.headers()).json()

    assert private["id"] in own["report_ids"]
    assert own["reports"]["total"] == 2
    assert others["report_ids"] == [shared["id"]]


@pytest.fixture
def spare_generation(database):
    """An empty generation beside the live one, as a rebuild in progress leaves it."""
    with psycopg.connect(database.url, autocommit=True) as conn:
        generation = tables.create_generation(conn)
    yield generation
    with psycopg.connect(database.url, autocommit=True) as conn:
        tables.drop_generation(conn, generation)


@pytest.mark.parametrize("stale", ["gone", "not live"])
def test_reads_find_the_live_generation_whatever_this_process_saw_last(
    client, member, report_body, database, spare_generation, stale, monkeypatch
):
    firm = _report(client, member, report_body)["firm_id"]
    phone = report_body["subject"]["identifiers"][0]["value"]
    expected = client.get(f"/v1/firms/{firm}", headers=member.headers()).json()
    with psycopg.connect(database.url) as conn:
        generation = tables.live_generation(conn)
    seen = 10**6 if stale == "gone" else spare_generation

    monkeypatch.setattr(live._seen, "generation", seen)
    answer = client.get(f"/v1/firms/{firm}", headers=member.headers())
    monkeypatch.setattr(live._seen, "generation", seen)
    page = client.get("/v1/firms", params={"q": phone}, headers=member.headers()).json()

    assert answer.json() == expected
    assert [item["firm_id"] for item in page["items"]] == [firm]
    assert live._seen.generation == generation


def test_unknown_firm_is_404(client, member):
    answer = client.get("/v1/firms/00000000-0000-4000-8000-000000000000", headers=member.headers())

    assert answer.status_code == 404
    assert answer.json()["type"] == "urn:watchlist:problem:not-found"


@pytest.mark.parametrize("autocommit", [True, False], ids=["autocommit", "in a transaction"])
def test_indexed_reads_are_planned_with_sequential_scans_off_and_leave_the_connection_as_it_was(
    client, member, report_body, database, autocommit
):
    _report(client, member, report_body)

    def settings_seen(schema: str) -> str:  # what the planner of a search works under
        return (
            "SELECT p.generation, t.position, current_setting('enable_seqscan'), "
            "current_setting('jit'), current_setting('plan_cache_mode') "
            f"FROM {tables.POINTER} p CROSS JOIN {schema}.tracking t"
        )

    with psycopg.connect(database.url, autocommit=autocommit) as conn:
        rows = live.read_by_index(conn, settings_seen, {})
        conn.commit()
        after = conn.execute("SHOW enable_seqscan").fetchone(), conn.execute("SHOW jit").fetchone()

    assert rows[0][1] == _projected(database)
    assert rows[0][2:] == ("off", "off", "force_generic_plan")
    assert after == (("on",), ("on",))
