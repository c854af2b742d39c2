"""An auditor trusts nothing: the access log, the chain, its checkpoints, export, replay."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import msgspec
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import sql

from conftest import SIGNING_SEED, example_report, own_log, projected_to_head, signing_chain
from projector.audit import export_lines, replay_and_compare, verify_database
from projector.chain import public_key_bytes
from projector.runner import ProjectorRunner
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.audit.verify import verify_lines
from watchlist.database import Database
from watchlist.domain.contract import ReportBody
from watchlist.runtime import load_taxonomy

PUBLIC_KEY = Ed25519PrivateKey.from_private_bytes(SIGNING_SEED).public_key()


def test_access_log_shows_who_read_a_firm_profile(client, member, other_member):
    report = client.post("/v1/reports", json=example_report(), headers=member.headers()).json()
    firm = report["firm_id"]
    read = client.get(f"/v1/firms/{firm}", headers=other_member.headers("investigator"))

    log = client.get(
        "/v1/audit/access", params={"firm": firm}, headers=member.headers("auditor")
    ).json()
    again = client.get(
        "/v1/audit/access",
        params={"org": str(member.organisation_id)},
        headers=member.headers("auditor"),
    ).json()

    reads = [e for e in log["items"] if e["route"] == "/v1/firms/{firm_id}"]
    assert reads, [(e["route"], e["method"]) for e in log["items"]]
    assert reads[0]["organisation_id"] == str(other_member.organisation_id)
    assert reads[0]["role"] == "investigator"
    assert reads[0]["status"] == 200
    assert reads[0]["request_id"] == read.headers["x-request-id"]
    assert reads[0]["firm_ids"] == [firm]
    # The auditor's own read is on the record too.
    assert any(e["route"] == "/v1/audit/access" and e["role"] == "auditor" for e in again["items"])
    submitted = [e for e in again["items"] if e["method"] == "POST"]
    assert submitted[-1]["report_ids"] == [report["id"]]


def _entry_of(client, auditor, answer, **params):
    """The access-log entry of one exchange, found by its request id among those matching."""
    log = client.get("/v1/audit/access", params=params, headers=auditor).json()
    wanted = answer.headers["x-request-id"]
    found = [e for e in log["items"] if e["request_id"] == wanted]
    assert found, f"no entry {wanted} among {[e['route'] for e in log['items']]}"
    return found[0]


def test_access_log_names_every_firm_a_search_or_a_public_check_showed(
    client, member, other_member
):
    body = example_report()
    phone = body["subject"]["identifiers"][0]["value"]
    firm = client.post("/v1/reports", json=body, headers=member.headers()).json()["firm_id"]
    client.post("/v1/reports", json=body, headers=other_member.headers())
    auditor = member.headers("auditor")

    search = client.get(
        "/v1/firms", params={"q": phone}, headers=other_member.headers("investigator")
    )
    check = client.get("/v1/public/check", params={"q": phone})
    nothing = client.get(
        "/v1/firms", params={"q": "no such agency anywhere"}, headers=member.headers()
    )

    listed = [hit["firm_id"] for hit in search.json()["items"]]
    assert firm in listed
    assert len(check.json()["firms"]) >= 1
    searched = _entry_of(client, auditor, search, firm=firm)
    assert searched["route"] == "/v1/firms"
    assert searched["organisation_id"] == str(other_member.organisation_id)
    assert searched["firm_ids"] == sorted(listed)
    checked = _entry_of(client, auditor, check, firm=firm)
    assert checked["role"] == "public"
    assert firm in checked["firm_ids"]
    assert len(checked["firm_ids"]) == len(check.json()["firms"])
    assert "firm_id" not in str(check.json())  # the public is never told the ids
    assert nothing.json()["items"] == []
    assert _entry_of(client, auditor, nothing, org=str(member.organisation_id))["firm_ids"] == []


def test_access_log_names_every_report_a_list_or_a_timeline_showed(client, member, other_member):
    first = client.post("/v1/reports", json=example_report(), headers=member.headers()).json()
    second = client.post("/v1/reports", json=example_report(), headers=member.headers()).json()
    auditor = member.headers("auditor")

    mine = client.get("/v1/reports", params={"limit": 2}, headers=member.headers())
    timeline = client.get(
        f"/v1/firms/{first['firm_id']}/timeline", headers=other_member.headers("investigator")
    )

    assert [r["id"] for r in mine.json()["items"]] == [second["id"], first["id"]]
    listed = _entry_of(client, auditor, mine, report=first["id"])
    assert sorted(listed["report_ids"]) == sorted([first["id"], second["id"]])
    on_timeline = {i["report_id"] for i in timeline.json()["items"] if i["report_id"]}
    assert on_timeline
    read = _entry_of(client, auditor, timeline, report=min(on_timeline))
    assert read["organisation_id"] == str(other_member.organisation_id)
    assert read["firm_ids"] == [first["firm_id"]]
    assert read["report_ids"] == sorted(on_timeline)


def test_access_log_is_append_only(client, database, member):
    client.get("/v1/reports", headers=member.headers())

    with psycopg.connect(database.url) as conn, pytest.raises(psycopg.errors.RaiseException):
        conn.execute("DELETE FROM watchlist_access_log")
    assert client.delete("/v1/audit/access", headers=member.headers("admin")).status_code == 405


@pytest.mark.parametrize("role", ["reporter", "investigator"])
def test_only_auditors_and_admins_read_the_audit_trail(client, member, role):
    for path in (
        "/v1/audit/access",
        "/v1/audit/checkpoints",
        "/v1/audit/events",
        "/v1/audit/public-key",
    ):
        assert client.get(path, headers=member.headers(role)).status_code == 403, path


def test_export_api_keeps_confidential_parts_sealed(client, member):
    client.post("/v1/reports", json=example_report(), headers=member.headers())

    export = client.get(
        "/v1/audit/events", params={"limit": "10000"}, headers=member.headers("auditor")
    )
    keys = client.get("/v1/audit/public-key", headers=member.headers("auditor")).json()

    assert export.headers["content-type"].startswith("application/x-ndjson")
    assert "calls back evenings" not in export.text
    assert verify_lines(export.text.splitlines(), PUBLIC_KEY).ok
    assert keys["public_keys"] == [
        base64.b64encode(
            public_key_bytes(Ed25519PrivateKey.from_private_bytes(SIGNING_SEED))
        ).decode()
    ]


# A database of its own: these tests tamper with the log.


@pytest.fixture(scope="module")
def tampered_db(database: Database):
    with own_log(database, "watchlist_audit_", "Audited hotline") as (audit_db, app, principal):
        for n in range(40):
            body = copy.deepcopy(EXAMPLE_REPORT)
            body["subject"]["names"] = [f"Audited agency {n % 7}"]
            body["subject"]["identifiers"] = [
                {"kind": "phone", "value": f"+7 703 100 00 {n % 7:02d}"}
            ]
            body["subject"]["websites"] = []
            app.submit_report(principal, msgspec.convert(body, ReportBody))
        runner = ProjectorRunner(audit_db, app.taxonomy, signing_chain(), poll_interval=0.1)
        projected_to_head(runner, audit_db)
        yield audit_db


def _tamper(db: Database, statement: str, params: tuple[Any, ...]) -> None:
    """What an administrator with database access could do, triggers and all."""
    with psycopg.connect(db.url) as conn:
        conn.execute("ALTER TABLE watchlist_events DISABLE TRIGGER USER")
        conn.execute(statement, params)
        conn.execute("ALTER TABLE watchlist_events ENABLE TRIGGER USER")


def test_untouched_log_verifies_and_replays_identical(tampered_db):
    with psycopg.connect(tampered_db.url) as conn:
        verdict = verify_database(conn, PUBLIC_KEY)
    compared = replay_and_compare(tampered_db, load_taxonomy())

    assert verdict.ok, verdict
    assert verdict.events == 42  # an organisation, its key, forty reports
    assert verdict.checkpoints >= 1
    assert compared.identical, compared.differences
    assert compared.rows["firms"] == 7


def test_export_verifies_offline_and_a_changed_line_is_named(tampered_db):
    with psycopg.connect(tampered_db.url) as conn:
        lines = list(export_lines(conn))

    assert verify_lines(lines, PUBLIC_KEY).ok
    event = json.loads(lines[5])
    assert event["type"] == "event"
    state = bytearray(base64.b64decode(event["state"]))
    state[10] ^= 1
    event["state"] = base64.b64encode(bytes(state)).decode()
    forged = [*lines[:5], json.dumps(event), *lines[6:]]
    verdict = verify_lines(forged, PUBLIC_KEY)
    assert not verdict.ok
    assert verdict.position == event["position"]
    assert verdict.reason.startswith("changed")
    other_key = Ed25519PrivateKey.generate().public_key()
    assert verify_lines(lines, other_key).reason.startswith("bad signature")


def test_replay_names_a_firm_whose_read_model_row_was_altered(tampered_db):
    with psycopg.connect(tampered_db.url) as conn:
        generation = conn.execute("SELECT generation FROM watchlist_read_model").fetchone()[0]
        firm = conn.execute(
            sql.SQL(
                "UPDATE {}.firms SET score = 99 WHERE firm_id = "
                "(SELECT firm_id FROM {}.firms ORDER BY firm_id LIMIT 1) RETURNING firm_id"
            ).format(
                sql.Identifier(f"watchlist_rm_{generation}"),
                sql.Identifier(f"watchlist_rm_{generation}"),
            )
        ).fetchone()[0]

    compared = replay_and_compare(tampered_db, load_taxonomy())

    assert not compared.identical
    assert any(str(firm) in d and "score" in d for d in compared.differences)


def test_verify_names_a_changed_byte_then_a_deleted_row(tampered_db):
    with psycopg.connect(tampered_db.url) as conn:
        original = conn.execute(
            "SELECT state FROM watchlist_events WHERE notification_id = 9"
        ).fetchone()[0]
    _tamper(
        tampered_db,
        "UPDATE watchlist_events SET state = set_byte(state, 30, 33) WHERE notification_id = 9",
        (),
    )
    with psycopg.connect(tampered_db.url) as conn:
        changed = verify_database(conn, PUBLIC_KEY)
    _tamper(
        tampered_db, "UPDATE watchlist_events SET state = %s WHERE notification_id = 9", (original,)
    )
    _tamper(tampered_db, "DELETE FROM watchlist_events WHERE notification_id = 20", ())
    with psycopg.connect(tampered_db.url) as conn:
        deleted = verify_database(conn, PUBLIC_KEY)

    assert not changed.ok
    assert changed.position == 9
    assert changed.reason.startswith("changed")
    assert not deleted.ok
    assert deleted.position == 20
    assert deleted.reason.startswith("missing")
