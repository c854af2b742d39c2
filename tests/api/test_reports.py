"""Reports over HTTP: what a partner organisation sees when it submits, reads, amends, retracts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

URL = "/v1/reports"


def submit(client: Any, member: Any, body: dict[str, Any], **headers: str) -> Any:
    return client.post(URL, json=body, headers=member.headers("reporter", **headers))


def test_example_body_is_recorded_with_location_and_version(client, member, report_body):
    response = submit(client, member, report_body)

    assert response.status_code == 201
    answer = response.json()
    assert answer["version"] == 1
    assert answer["position"] > 0
    assert response.headers["location"] == f"{URL}/{answer['id']}"
    assert response.headers["etag"] == '"1"'


def test_each_submission_is_answered_with_its_own_random_request_id(client, member, report_body):
    ids = [submit(client, member, report_body).headers["x-request-id"] for _ in range(3)]

    assert len(set(ids)) == 3
    assert all(UUID(request_id).version == 4 for request_id in ids)


def test_same_idempotency_key_and_body_returns_same_id_and_adds_no_event(
    client, member, report_body, count_events
):
    first = submit(client, member, report_body, **{"Idempotency-Key": "call-2026-10-02-17"})
    events_after_first = count_events()
    again = submit(client, member, report_body, **{"Idempotency-Key": "call-2026-10-02-17"})

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert count_events() == events_after_first


def test_same_idempotency_key_with_another_body_is_a_conflict(
    client, member, report_body, count_events
):
    submit(client, member, report_body, **{"Idempotency-Key": "k-1"})
    before = count_events()
    report_body["narrative"] = "a different call"
    response = submit(client, member, report_body, **{"Idempotency-Key": "k-1"})

    assert response.status_code == 409
    assert response.json()["type"] == "urn:watchlist:problem:idempotency-key-reused"
    assert count_events() == before


def test_idempotency_keys_belong_to_one_organisation(client, member, other_member, report_body):
    mine = submit(client, member, report_body, **{"Idempotency-Key": "shared-name"})
    theirs = submit(client, other_member, report_body, **{"Idempotency-Key": "shared-name"})

    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]


def test_submitter_reads_everything_including_the_confidential_part(client, member, report_body):
    report_id = submit(client, member, report_body).json()["id"]

    response = client.get(f"{URL}/{report_id}", headers=member.headers())

    assert response.status_code == 200
    record = response.json()
    assert record["confidential"] == "visible"
    assert record["report"]["confidential"]["caller_name"] == "A. K."
    assert record["report"]["subject"]["names"] == report_body["subject"]["names"]
    assert record["organisation_id"] == str(member.organisation_id)
    assert response.headers["etag"] == '"1"'


def test_partner_reads_shared_report_without_confidential_part(
    client, member, other_member, report_body
):
    report_id = submit(client, member, report_body).json()["id"]

    response = client.get(f"{URL}/{report_id}", headers=other_member.headers())

    assert response.status_code == 200
    record = response.json()
    assert record["confidential"] == "sealed"
    assert record["report"]["confidential"] is None
    assert "A. K." not in response.text
    assert "calls back evenings" not in response.text
    assert record["report"]["narrative"] == report_body["narrative"]


def test_second_org_gets_404_for_a_private_report(client, member, other_member, report_body):
    report_body["sharing"] = "private"
    report_id = submit(client, member, report_body).json()["id"]

    response = client.get(f"{URL}/{report_id}", headers=other_member.headers())
    missing = client.get(
        f"{URL}/00000000-0000-4000-8000-000000000000", headers=other_member.headers()
    )

    assert response.status_code == 404
    assert response.json() == missing.json() | {"detail": response.json()["detail"]}
    assert report_id not in client.get(f"{URL}?mine=false", headers=other_member.headers()).text


def test_amendment_with_current_version_records_a_new_version(client, member, report_body):
    report_id = submit(client, member, report_body).json()["id"]
    amended = report_body | {
        "narrative": "Second call: the agency asked for $500.",
        "reason": "caller called back",
    }

    response = client.post(
        f"{URL}/{report_id}/amendments", json=amended, headers=member.headers(**{"If-Match": '"1"'})
    )

    assert response.status_code == 200
    assert response.json()["version"] == 2
    record = client.get(f"{URL}/{report_id}", headers=member.headers()).json()
    assert record["version"] == 2
    assert record["report"]["narrative"] == "Second call: the agency asked for $500."
    assert record["report"]["confidential"]["notes"] == "calls back evenings"


def test_amendment_with_stale_version_is_412_and_writes_nothing(
    client, member, report_body, count_events
):
    report_id = submit(client, member, report_body).json()["id"]
    amended = report_body | {"reason": "fix"}
    client.post(
        f"{URL}/{report_id}/amendments", json=amended, headers=member.headers(**{"If-Match": '"1"'})
    )
    before = count_events()

    stale = client.post(
        f"{URL}/{report_id}/amendments", json=amended, headers=member.headers(**{"If-Match": '"1"'})
    )

    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert count_events() == before


def test_amendment_without_if_match_is_428(client, member, report_body):
    report_id = submit(client, member, report_body).json()["id"]

    response = client.post(
        f"{URL}/{report_id}/amendments",
        json=report_body | {"reason": "x"},
        headers=member.headers(),
    )

    assert response.status_code == 428


def test_only_the_submitting_organisation_may_amend_or_retract(
    client, member, other_member, report_body, count_events
):
    report_id = submit(client, member, report_body).json()["id"]
    before = count_events()

    amend = client.post(
        f"{URL}/{report_id}/amendments",
        json=report_body | {"reason": "x"},
        headers=other_member.headers(**{"If-Match": '"1"'}),
    )
    retract = client.post(
        f"{URL}/{report_id}/retraction", json={"reason": "x"}, headers=other_member.headers()
    )

    assert amend.status_code == 403
    assert retract.status_code == 403
    assert count_events() == before


def test_retraction_then_amendment_is_a_conflict(client, member, report_body, count_events):
    report_id = submit(client, member, report_body).json()["id"]

    retracted = client.post(
        f"{URL}/{report_id}/retraction",
        json={"reason": "the caller named the wrong agency"},
        headers=member.headers(),
    )
    before = count_events()
    amend = client.post(
        f"{URL}/{report_id}/amendments",
        json=report_body | {"reason": "x"},
        headers=member.headers(**{"If-Match": '"2"'}),
    )

    assert retracted.status_code == 200
    assert retracted.json()["version"] == 2
    assert amend.status_code == 409
    assert amend.json()["type"] == "urn:watchlist:problem:report-retracted"
    assert count_events() == before
    record = client.get(f"{URL}/{report_id}", headers=member.headers()).json()
    assert record["status"] == "retracted"
    assert record["retraction_reason"] == "the caller named the wrong agency"


def test_own_reports_are_listed_newest_first_across_pages(client, new_member, report_body):
    member = new_member("Paging org")
    ids = []
    for n in range(5):
        report_body["subject"]["names"] = [f"Agency {n}"]
        ids.append(submit(client, member, report_body).json()["id"])

    seen, cursor = [], None
    while True:
        params = {"mine": "true", "limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = client.get(URL, params=params, headers=member.headers()).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(ids))
    first = client.get(URL, params={"limit": "1"}, headers=member.headers()).json()["items"][0]
    assert first["display_name"] == "Agency 4"
    assert first["status"] == "active"


def test_bad_cursor_is_a_problem_naming_the_cursor(client, member):
    response = client.get(URL, params={"cursor": "!!!"}, headers=member.headers())

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "$.cursor"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer wl_nope", "Basic abc", "Bearer wl_00000000000000000000000000000000_x"],
)
def test_missing_or_bad_key_is_401(client, report_body, count_events, header):
    before = count_events()
    headers = {"Authorization": header} if header else {}

    response = client.post(URL, json=report_body, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert count_events() == before


def test_revoked_key_is_401(client, watchlist, member, report_body):
    issued = watchlist.issue_key(member.organisation_id, "reporter")
    watchlist.revoke_key(issued.key_id, "laptop stolen")

    response = client.post(URL, json=report_body, headers={"Authorization": f"Bearer {issued.key}"})

    assert response.status_code == 401


def test_health_needs_no_key_and_reports_the_projector(client):
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
    assert ready.json()["projector"]["running"] is True


def test_submission_answers_with_its_firm_and_level(client, member, report_body):
    answer = submit(client, member, report_body).json()

    assert answer["projected"] is True
    assert answer["firm_id"] is not None
    assert answer["risk_level"] in {"low", "medium", "high", "critical"}


def test_prefer_wait_0_answers_without_waiting(client, member, report_body):
    answer = submit(client, member, report_body, Prefer="wait=0").json()

    assert set(answer) >= {"id", "version", "position", "projected"}
