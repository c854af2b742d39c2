"""Every report endpoint against every role, of the submitting and of a second organisation."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import example_report

URL = "/v1/reports"
ROLES = ["reporter", "investigator", "auditor", "admin"]


def _submit(client: Any, member: Any, sharing: str = "partners") -> str:
    response = client.post(
        URL, json=example_report() | {"sharing": sharing}, headers=member.headers("reporter")
    )
    assert response.status_code == 201
    return str(response.json()["id"])


def call(client: Any, endpoint: str, report_id: str, headers: dict[str, str]) -> Any:
    match endpoint:
        case "submit":
            return client.post(URL, json=example_report(), headers=headers)
        case "read":
            return client.get(f"{URL}/{report_id}", headers=headers)
        case "list":
            return client.get(URL, headers=headers)
        case "amend":
            return client.post(
                f"{URL}/{report_id}/amendments",
                json=example_report() | {"reason": "correction"},
                headers=headers | {"If-Match": '"1"'},
            )
        case "retract":
            return client.post(
                f"{URL}/{report_id}/retraction", json={"reason": "mistake"}, headers=headers
            )
    raise AssertionError(endpoint)


# endpoint -> expected status per role, for a key of the submitting organisation
OWN = {
    "submit": {"reporter": 201, "investigator": 403, "auditor": 403, "admin": 201},
    "read": {"reporter": 200, "investigator": 200, "auditor": 200, "admin": 200},
    "list": {"reporter": 200, "investigator": 200, "auditor": 200, "admin": 200},
    "amend": {"reporter": 200, "investigator": 403, "auditor": 403, "admin": 200},
    "retract": {"reporter": 200, "investigator": 403, "auditor": 403, "admin": 200},
}
# the same for a key of another organisation, on a shared and on a private report
OTHER_SHARED = {
    "read": {"reporter": 200, "investigator": 200, "auditor": 200, "admin": 200},
    "amend": {"reporter": 403, "investigator": 403, "auditor": 403, "admin": 403},
    "retract": {"reporter": 403, "investigator": 403, "auditor": 403, "admin": 403},
}
OTHER_PRIVATE = {
    "read": {"reporter": 404, "investigator": 404, "auditor": 404, "admin": 404},
    "amend": {"reporter": 404, "investigator": 403, "auditor": 403, "admin": 404},
    "retract": {"reporter": 404, "investigator": 403, "auditor": 403, "admin": 404},
}


def _cases(table: dict[str, dict[str, int]]) -> list[tuple[str, str, int]]:
    return [
        (endpoint, role, status) for endpoint, row in table.items() for role, status in row.items()
    ]


@pytest.mark.parametrize(("endpoint", "role", "status"), _cases(OWN))
def test_own_organisation(client, member, endpoint, role, status):
    report_id = _submit(client, member)

    response = call(client, endpoint, report_id, member.headers(role))

    assert response.status_code == status, response.text


@pytest.mark.parametrize(("endpoint", "role", "status"), _cases(OTHER_SHARED))
def test_second_organisation_on_a_shared_report(
    client, member, other_member, endpoint, role, status
):
    report_id = _submit(client, member, "partners")

    response = call(client, endpoint, report_id, other_member.headers(role))

    assert response.status_code == status, response.text


@pytest.mark.parametrize(("endpoint", "role", "status"), _cases(OTHER_PRIVATE))
def test_second_organisation_on_a_private_report(
    client, member, other_member, endpoint, role, status
):
    report_id = _submit(client, member, "private")

    response = call(client, endpoint, report_id, other_member.headers(role))

    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("reporter", "visible"),
        ("investigator", "visible"),
        ("admin", "visible"),
        ("auditor", "sealed"),
    ],
)
def test_who_in_the_submitting_organisation_sees_the_confidential_part(client, member, role, sees):
    report_id = _submit(client, member)

    record = client.get(f"{URL}/{report_id}", headers=member.headers(role)).json()

    assert record["confidential"] == sees
    assert (record["report"]["confidential"] is not None) == (sees == "visible")


@pytest.mark.parametrize("role", ROLES)
def test_second_organisation_never_sees_a_confidential_part(client, member, other_member, role):
    report_id = _submit(client, member)

    response = client.get(f"{URL}/{report_id}", headers=other_member.headers(role))

    assert response.json()["report"]["confidential"] is None
    assert "calls back evenings" not in response.text


def test_list_shows_partners_reports_but_never_private_ones(client, member, other_member):
    shared = _submit(client, member, "partners")
    private = _submit(client, member, "private")

    theirs = client.get(
        URL, params={"mine": "false", "limit": "100"}, headers=other_member.headers()
    ).text
    own = client.get(URL, params={"mine": "false", "limit": "100"}, headers=member.headers()).text

    assert shared in theirs
    assert private not in theirs
    assert shared in own
    assert private in own


@pytest.mark.parametrize("role", ["investigator", "auditor"])
def test_a_key_that_may_not_submit_is_refused_before_its_body_is_read(
    client, member, count_events, role
):
    before = count_events()

    response = client.post(
        URL, content=b"not json", headers=member.headers(role) | {"Content-Type": "text/plain"}
    )

    assert response.status_code == 403
    assert response.json()["type"] == "urn:watchlist:problem:forbidden"
    assert count_events() == before
