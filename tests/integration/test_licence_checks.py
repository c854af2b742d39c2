"""Licence checks: the latest shows on the profile, weighs in the risk and is on the timeline."""

from __future__ import annotations

CHECK = {
    "registry": "Ministry of Labour, register of private employment agencies",
    "status": "none_found",
    "checked_on": "2026-10-04",
    "licence_number": "KZ-LIC-0042",
    "source": "https://www.enbek.kz",
}


def _firm(client, member, report_body):
    answer = client.post("/v1/reports", json=report_body, headers=member.headers()).json()
    return answer["firm_id"]


def test_no_licence_found_raises_the_score_and_names_the_check(client, member, report_body):
    firm = _firm(client, member, report_body)
    headers = member.headers("investigator")
    before = client.get(f"/v1/firms/{firm}", headers=headers).json()

    recorded = client.post(f"/v1/firms/{firm}/licence-checks", json=CHECK, headers=headers)
    after = client.get(f"/v1/firms/{firm}", headers=headers).json()
    timeline = client.get(f"/v1/firms/{firm}/timeline", headers=headers).json()

    assert recorded.status_code == 201, recorded.text
    assert after["licence"]["status"] == "none_found"
    assert after["risk"]["model"] == "risk-v2"
    assert after["risk"]["score"] == before["risk"]["score"] + 4
    licence_points = [
        c for c in after["risk"]["explanation"] if c["indicator"] == "licence:none_found"
    ]
    assert licence_points[0]["points"] == 4
    assert timeline["items"][-1]["kind"] == "licence_check"
    assert "none_found" in timeline["items"][-1]["summary"]


def test_the_latest_check_counts(client, member, report_body):
    firm = _firm(client, member, report_body)
    headers = member.headers("investigator")
    client.post(f"/v1/firms/{firm}/licence-checks", json=CHECK, headers=headers)

    client.post(
        f"/v1/firms/{firm}/licence-checks",
        json=CHECK | {"status": "valid", "checked_on": "2026-10-05"},
        headers=headers,
    )
    profile = client.get(f"/v1/firms/{firm}", headers=headers).json()

    assert profile["licence"]["status"] == "valid"
    assert not [
        c
        for c in profile["risk"]["explanation"]
        if c["points"] and c["indicator"].startswith("licence:")
    ]


def test_licence_checks_are_for_investigators_and_checked(
    client, member, report_body, count_events
):
    firm = _firm(client, member, report_body)
    before = count_events()

    as_reporter = client.post(
        f"/v1/firms/{firm}/licence-checks", json=CHECK, headers=member.headers("reporter")
    )
    bad_status = client.post(
        f"/v1/firms/{firm}/licence-checks",
        json=CHECK | {"status": "ok"},
        headers=member.headers("investigator"),
    )
    future = client.post(
        f"/v1/firms/{firm}/licence-checks",
        json=CHECK | {"checked_on": "2999-01-01"},
        headers=member.headers("investigator"),
    )
    unknown = client.post(
        "/v1/firms/00000000-0000-4000-8000-000000000000/licence-checks",
        json=CHECK,
        headers=member.headers("investigator"),
    )

    assert as_reporter.status_code == 403
    assert bad_status.status_code == 422
    assert bad_status.json()["errors"][0]["path"] == "$.status"
    assert future.status_code == 422
    assert future.json()["errors"][0]["path"] == "$.checked_on"
    assert unknown.status_code == 404
    assert count_events() == before
