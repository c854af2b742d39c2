"""A named firm's reply is on the record; disputes are marked everywhere and resolved."""

from __future__ import annotations

from conftest import example_report


def _two_reports(client, a, b):
    body = example_report()
    first = client.post("/v1/reports", json=body, headers=a.headers()).json()
    second = client.post(
        "/v1/reports", json=body | {"narrative": "another caller"}, headers=b.headers()
    ).json()
    assert first["firm_id"] == second["firm_id"]
    return first["firm_id"], first["id"], second["id"], body


def _reply(client, member, firm, disputed):
    return client.post(
        f"/v1/firms/{firm}/replies",
        json={
            "statement": "We are licensed; these callers were never our clients.",
            "received_on": "2026-10-10",
            "contact": "office@example.kz",
            "disputed_reports": disputed,
        },
        headers=member.headers("investigator"),
    )


def test_a_reply_marks_the_disputed_report_everywhere(client, member, other_member):
    firm, disputed, _, _ = _two_reports(client, member, other_member)

    filed = _reply(client, member, firm, [disputed])
    profile = client.get(f"/v1/firms/{firm}", headers=other_member.headers()).json()
    report = client.get(f"/v1/reports/{disputed}", headers=other_member.headers()).json()
    timeline = client.get(f"/v1/firms/{firm}/timeline", headers=member.headers()).json()

    assert filed.status_code == 201, filed.text
    assert profile["disputed_reports"] == [disputed]
    assert profile["replies"][0]["statement"].startswith("We are licensed")
    assert report["dispute"] == "pending"
    pending = [c for c in profile["risk"]["explanation"] if c["report_id"] == disputed]
    assert all(c["note"] == "disputed by the firm: pending" for c in pending)
    assert [i["kind"] for i in timeline["items"]][-2:] == ["reply", "disputed"]


def test_resolving_as_retracted_lowers_the_score_and_upheld_keeps_it(client, member, other_member):
    firm, disputed, other, _ = _two_reports(client, member, other_member)
    _reply(client, member, firm, [disputed, other])
    before = client.get(f"/v1/firms/{firm}", headers=member.headers()).json()["risk"]["score"]

    upheld = client.post(
        f"/v1/reports/{other}/dispute-resolution",
        json={"outcome": "upheld", "reason": "confirmed by a second call"},
        headers=other_member.headers(),
    )
    kept = client.get(f"/v1/firms/{firm}", headers=member.headers()).json()["risk"]["score"]
    retracted = client.post(
        f"/v1/reports/{disputed}/dispute-resolution",
        json={"outcome": "retracted", "reason": "the firm was right"},
        headers=member.headers(),
    )
    after = client.get(f"/v1/firms/{firm}", headers=member.headers()).json()

    assert upheld.status_code == 200, upheld.text
    assert kept == before
    assert retracted.status_code == 200
    assert after["risk"]["score"] < before
    assert after["disputed_reports"] == []
    assert (
        client.get(f"/v1/reports/{disputed}", headers=member.headers()).json()["status"]
        == "retracted"
    )


def test_a_correction_carries_its_amendment(client, member, other_member):
    firm, disputed, _, body = _two_reports(client, member, other_member)
    _reply(client, member, firm, [disputed])

    without = client.post(
        f"/v1/reports/{disputed}/dispute-resolution",
        json={"outcome": "corrected", "reason": "wrong date"},
        headers=member.headers(),
    )
    corrected = client.post(
        f"/v1/reports/{disputed}/dispute-resolution",
        json={
            "outcome": "corrected",
            "reason": "wrong date",
            "amendment": body | {"narrative": "corrected account"},
        },
        headers=member.headers(),
    )
    again = client.post(
        f"/v1/reports/{disputed}/dispute-resolution",
        json={"outcome": "upheld", "reason": "x"},
        headers=member.headers(),
    )
    record = client.get(f"/v1/reports/{disputed}", headers=member.headers()).json()

    assert without.status_code == 422
    assert without.json()["errors"][0]["path"] == "$.amendment"
    assert corrected.status_code == 200, corrected.text
    assert record["dispute"] == "corrected"
    assert record["report"]["narrative"] == "corrected account"
    assert again.status_code == 409


def test_only_the_submitting_organisation_or_an_admin_resolves(
    client, member, other_member, count_events
):
    firm, disputed, _, _ = _two_reports(client, member, other_member)
    _reply(client, member, firm, [disputed])
    before = count_events()

    by_other = client.post(
        f"/v1/reports/{disputed}/dispute-resolution",
        json={"outcome": "upheld", "reason": "x"},
        headers=other_member.headers(),
    )
    not_this_firm = _reply(client, member, firm, ["00000000-0000-4000-8000-000000000000"])

    assert by_other.status_code == 403
    assert not_this_firm.status_code == 422
    assert not_this_firm.json()["errors"][0]["path"] == "$.disputed_reports[0]"
    assert count_events() == before
