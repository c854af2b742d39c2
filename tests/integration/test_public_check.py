"""The public check: a caller about to sign with an agency learns only what is safe to say."""

from __future__ import annotations

import dataclasses

from litestar.testing import TestClient

from conftest import example_report
from watchlist.api.app import create_app

ALLOWED = {"display_name", "level", "organisations", "licence_status", "latest_report"}


def _phone(body):
    return body["subject"]["identifiers"][0]["value"]


def _check(client, q):
    response = client.get("/v1/public/check", params={"q": q})
    assert response.status_code == 200, response.text
    return response.json()


def test_two_organisations_make_a_firm_public_with_level_and_count_only(
    client, member, other_member
):
    body = example_report()
    client.post("/v1/reports", json=body, headers=member.headers())
    alone = _check(client, _phone(body))
    client.post("/v1/reports", json=body, headers=other_member.headers())
    answer = _check(client, _phone(body).replace(" ", ""))

    assert alone["firms"] == []
    assert len(answer["firms"]) == 1
    shown = answer["firms"][0]
    assert set(shown) == ALLOWED
    assert shown["organisations"] == 2
    assert shown["level"] in {"low", "medium", "high", "critical"}
    assert len(shown["latest_report"]) == 7  # a month, not a day
    assert answer["hotline"]
    text = str(answer)
    for secret in (
        body["narrative"],
        "Shymkent women",
        body["subject"]["identifiers"][1]["value"],
        "calls back evenings",
    ):
        assert secret not in text


def test_a_private_report_never_makes_a_firm_public(client, member, other_member):
    body = example_report()
    client.post("/v1/reports", json=body, headers=member.headers())
    client.post("/v1/reports", json=body | {"sharing": "private"}, headers=other_member.headers())

    assert _check(client, _phone(body))["firms"] == []


def test_a_pending_dispute_hides_the_firm(client, member, other_member):
    body = example_report()
    first = client.post("/v1/reports", json=body, headers=member.headers()).json()
    client.post("/v1/reports", json=body, headers=other_member.headers())
    assert len(_check(client, _phone(body))["firms"]) == 1

    client.post(
        f"/v1/firms/{first['firm_id']}/replies",
        json={
            "statement": "not us",
            "received_on": "2026-10-10",
            "disputed_reports": [first["id"]],
        },
        headers=member.headers("investigator"),
    )

    assert _check(client, _phone(body))["firms"] == []


def test_checks_are_in_the_access_log_without_the_client_address(client, member):
    _check(client, "Nobody Travel")

    log = client.get("/v1/audit/access", headers=member.headers("auditor")).json()
    public = [e for e in log["items"] if e["role"] == "public"]

    assert public, log
    assert public[0]["route"] == "/v1/public/check"
    assert public[0]["organisation_id"] is None
    assert len(public[0]["client"]) == 32
    assert "testclient" not in str(public[0])


def test_a_short_query_is_refused_naming_it(client):
    response = client.get("/v1/public/check", params={"q": "ab"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "query.q"


def test_each_client_is_rate_limited_with_retry_after(watchlist, settings, projector):
    strict = dataclasses.replace(settings, public_checks_per_minute=3)
    with TestClient(create_app(watchlist, strict)) as limited:
        answers = [limited.get("/v1/public/check", params={"q": "Some agency"}) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].headers["content-type"].startswith("application/problem+json")
    assert int(answers[-1].headers["retry-after"]) > 0
