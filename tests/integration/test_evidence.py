"""Evidence: a file the organisation holds, registered by hash, listed on the report."""

from __future__ import annotations

import hashlib

URL = "/v1/reports"
PHOTO = {
    "sha256": hashlib.sha256(b"photo of the advert").hexdigest(),
    "media_type": "image/jpeg",
    "size": 183_422,
    "description": "the agency's advert on a bus stop",
}


def test_registered_evidence_is_listed_and_on_the_timeline(client, member, report_body):
    report_id = client.post(URL, json=report_body, headers=member.headers()).json()["id"]

    registered = client.post(f"{URL}/{report_id}/evidence", json=PHOTO, headers=member.headers())
    record = client.get(f"{URL}/{report_id}", headers=member.headers()).json()
    firm = registered.json()["firm_id"]
    timeline = client.get(f"/v1/firms/{firm}/timeline", headers=member.headers()).json()

    assert registered.status_code == 201, registered.text
    assert registered.json()["version"] == 2
    assert record["evidence"] == [PHOTO]
    assert timeline["items"][-1]["kind"] == "evidence"
    assert PHOTO["sha256"] in timeline["items"][-1]["summary"]


def test_the_same_file_twice_is_a_conflict_and_writes_nothing(
    client, member, report_body, count_events
):
    report_id = client.post(URL, json=report_body, headers=member.headers()).json()["id"]
    client.post(f"{URL}/{report_id}/evidence", json=PHOTO, headers=member.headers())
    before = count_events()

    again = client.post(
        f"{URL}/{report_id}/evidence",
        json=PHOTO | {"description": "same file, other words"},
        headers=member.headers(),
    )

    assert again.status_code == 409
    assert again.json()["type"] == "urn:watchlist:problem:evidence-registered"
    assert count_events() == before


def test_bad_evidence_is_refused_naming_the_field(
    client, member, other_member, report_body, count_events
):
    report_id = client.post(URL, json=report_body, headers=member.headers()).json()["id"]
    before = count_events()

    bad_hash = client.post(
        f"{URL}/{report_id}/evidence", json=PHOTO | {"sha256": "abc"}, headers=member.headers()
    )
    negative = client.post(
        f"{URL}/{report_id}/evidence", json=PHOTO | {"size": -1}, headers=member.headers()
    )
    theirs = client.post(f"{URL}/{report_id}/evidence", json=PHOTO, headers=other_member.headers())

    assert bad_hash.status_code == 422
    assert bad_hash.json()["errors"][0]["path"] == "$.sha256"
    assert negative.json()["errors"][0]["path"] == "$.size"
    assert theirs.status_code == 403
    assert count_events() == before
