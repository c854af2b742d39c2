"""Erasing a confidential part destroys it for good; the report and the log stay."""

from __future__ import annotations

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import SIGNING_SEED
from projector.audit import verify_database

URL = "/v1/reports"
SECRETS = ("A. K.", "+77011234567", "calls back evenings")


def _erase(client, member, report_id, role="admin"):
    return client.post(
        f"{URL}/{report_id}/confidential/erasure",
        json={"reason": "the caller asked us to forget her"},
        headers=member.headers(role),
    )


def test_erasure_destroys_the_key_keeps_the_report_and_the_chain(
    client, member, report_body, database, rows_containing
):
    report_id = client.post(URL, json=report_body, headers=member.headers()).json()["id"]
    assert client.get(f"{URL}/{report_id}", headers=member.headers()).json()["confidential"] == (
        "visible"
    )

    erased = _erase(client, member, report_id)
    record = client.get(f"{URL}/{report_id}", headers=member.headers()).json()

    assert erased.status_code == 200, erased.text
    assert erased.json()["version"] == 2
    assert record["confidential"] == "erased"
    assert record["report"]["confidential"] is None
    assert record["report"]["subject"] == report_body["subject"]
    assert record["report"]["narrative"] == report_body["narrative"]
    assert record["status"] == "active"
    with psycopg.connect(database.url) as conn:
        key = conn.execute(
            "SELECT wrapped_key, erased_at FROM watchlist_report_keys WHERE report_id = %s",
            (report_id,),
        ).fetchone()
        dumped = conn.execute(
            "SELECT string_agg(t::text, ' ') FROM watchlist_report_keys t"
        ).fetchone()[0]
        verdict = verify_database(
            conn, Ed25519PrivateKey.from_private_bytes(SIGNING_SEED).public_key()
        )
    assert key[0] is None
    assert key[1] is not None
    assert all(secret not in dumped for secret in SECRETS)
    for secret in SECRETS:  # nowhere in the whole database, in clear or as bytes
        assert rows_containing(secret) == [], secret
    assert verdict.ok, verdict
    firm = erased.json()["firm_id"]
    timeline = client.get(f"/v1/firms/{firm}/timeline", headers=member.headers()).json()
    assert timeline["items"][-1]["kind"] == "erased"


def test_only_an_admin_of_the_submitting_organisation_erases(
    client, member, other_member, report_body, count_events
):
    report_id = client.post(URL, json=report_body, headers=member.headers()).json()["id"]
    before = count_events()

    for who, role in (
        (member, "reporter"),
        (member, "investigator"),
        (member, "auditor"),
        (other_member, "admin"),
    ):
        assert _erase(client, who, report_id, role).status_code == 403, (role, who)
    assert count_events() == before
    record = client.get(f"{URL}/{report_id}", headers=member.headers()).json()
    assert record["confidential"] == "visible"


def test_after_erasure_amendments_carry_no_confidential_part(client, member, report_body):
    report_id = client.post(URL, json=report_body, headers=member.headers()).json()["id"]
    _erase(client, member, report_id)

    with_part = client.post(
        f"{URL}/{report_id}/amendments",
        json=report_body | {"reason": "new details"},
        headers=member.headers(**{"If-Match": '"2"'}),
    )
    without = client.post(
        f"{URL}/{report_id}/amendments",
        json=report_body | {"confidential": None, "reason": "new details"},
        headers=member.headers(**{"If-Match": '"2"'}),
    )
    again = _erase(client, member, report_id)

    assert with_part.status_code == 409
    assert with_part.json()["type"] == "urn:watchlist:problem:confidential-erased"
    assert without.status_code == 200
    assert again.status_code == 409
