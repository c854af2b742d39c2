"""The projector as an investigator sees it: one recruiter however it was written."""

from __future__ import annotations

import copy
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from watchlist.api.examples import EXAMPLE_REPORT

RAI_CYRILLIC = {
    "names": ["ТОО «Рай {tag} за границей»"],
    "country": "KZ",
    "identifiers": [{"kind": "phone", "value": "+7 (7252) 30-01-{tag}"}],
}
RAI_LATIN = {"names": ["Ray {tag} za granitsey LLP"], "country": "KZ"}
RAI_PHONE_ONLY = {
    "names": ["Travel agency {tag} Shymkent"],
    "country": "KZ",
    "identifiers": [{"kind": "phone", "value": "8 7252 3001{tag}"}],
}


def body(subject: dict[str, Any], **changes: Any) -> dict[str, Any]:
    report = copy.deepcopy(EXAMPLE_REPORT) | changes
    report["subject"] = copy.deepcopy(subject)
    return report


def unique(subject: dict[str, Any], tag: str) -> dict[str, Any]:
    """The same recruiter, under a name and phone no other test uses."""
    subject = copy.deepcopy(subject)
    subject["names"] = [n.format(tag=tag) for n in subject["names"]]
    for identifier in subject.get("identifiers", []):
        identifier["value"] = identifier["value"].format(tag=tag)
    return subject


def without_positions(text: str) -> str:
    return re.sub(r'"as_of_position":\d+', '"as_of_position":_', text)


def post(client: Any, member: Any, report: dict[str, Any], role: str = "reporter") -> Any:
    response = client.post("/v1/reports", json=report, headers=member.headers(role))
    assert response.status_code == 201, response.text
    assert response.json()["projected"] is True
    return response.json()


def profile(client: Any, member: Any, firm_id: str, **params: str) -> Any:
    response = client.get(
        f"/v1/firms/{firm_id}", params=params, headers=member.headers("investigator")
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def three(new_member):
    return [new_member(f"Hotline {n}") for n in ("Shymkent", "Turkistan", "Almaty")]


def test_three_organisations_reporting_one_recruiter_make_one_firm(client, three):
    tag = "31"
    first = post(client, three[0], body(unique(RAI_CYRILLIC, tag)))
    after_first = profile(client, three[0], first["firm_id"])
    # The transliterated name matches the Cyrillic one...
    latin = unique(RAI_LATIN, tag)
    second = post(client, three[1], body(latin))
    # ...and a phone written another way matches the first report's phone.
    third = post(client, three[2], body(unique(RAI_PHONE_ONLY, tag)))

    assert first["firm_id"] == second["firm_id"] == third["firm_id"]
    now = profile(client, three[0], first["firm_id"])
    # Which reports made the firm, should another test's report share a key with these.
    mine = {first["id"], second["id"], third["id"]}
    assert now["organisations"] == 3, (first["firm_id"], set(now["report_ids"]) - mine)
    assert now["reports"] == {"total": 3, "active": 3, "retracted": 0}
    assert now["risk"]["score"] > after_first["risk"]["score"]
    assert ["none", "low", "medium", "high", "critical"].index(now["risk"]["level"]) > [
        "none",
        "low",
        "medium",
        "high",
        "critical",
    ].index(after_first["risk"]["level"])
    explained = {c["report_id"] for c in now["risk"]["explanation"] if c["counted"]}
    assert explained == {first["id"], second["id"], third["id"]}
    assert set(now["report_ids"]) == explained


def test_retraction_lowers_the_score_and_shows_on_the_timeline(client, three):
    tag = "42"
    reports = [
        post(client, m, body(unique(s, tag)))
        for m, s in zip(three, (RAI_CYRILLIC, RAI_LATIN, RAI_PHONE_ONLY), strict=True)
    ]
    firm_id = reports[0]["firm_id"]
    before = profile(client, three[0], firm_id)

    retracted = client.post(
        f"/v1/reports/{reports[1]['id']}/retraction",
        json={"reason": "the caller named another agency"},
        headers=three[1].headers(),
    )
    after = profile(client, three[0], firm_id)
    timeline = client.get(
        f"/v1/firms/{firm_id}/timeline", headers=three[0].headers("investigator")
    ).json()

    assert retracted.status_code == 200
    assert retracted.json()["firm_id"] == firm_id
    assert after["organisations"] == 2
    assert after["reports"] == {"total": 3, "active": 2, "retracted": 1}
    assert after["risk"]["score"] < before["risk"]["score"]
    zeroed = [c for c in after["risk"]["explanation"] if c["report_id"] == reports[1]["id"]]
    assert zeroed
    assert all(c["points"] == 0 and not c["counted"] for c in zeroed)
    kinds = [(item["kind"], item["report_id"]) for item in timeline["items"]]
    assert kinds[-1] == ("retracted", reports[1]["id"])
    assert [k for k, _ in kinds] == ["submitted", "submitted", "submitted", "retracted"]
    assert "another agency" in timeline["items"][-1]["summary"]
    assert timeline["as_of_position"] >= retracted.json()["position"]


def test_as_of_before_the_third_report_is_the_profile_as_it_stood(client, three):
    tag = "53"
    post(client, three[0], body(unique(RAI_CYRILLIC, tag)))
    second = post(client, three[1], body(unique(RAI_LATIN, tag)))
    live_then = profile(client, three[0], second["firm_id"])
    third = post(client, three[2], body(unique(RAI_PHONE_ONLY, tag)))

    by_position = profile(client, three[0], second["firm_id"], as_of=str(third["position"] - 1))
    now = profile(client, three[0], second["firm_id"])

    assert by_position["organisations"] == 2
    assert now["organisations"] == 3
    # The as-of profile is exactly what the live profile said at that moment.
    live_then["as_of_position"] = by_position["as_of_position"]
    assert by_position == live_then


def test_as_of_a_time_before_the_firm_existed_is_404(client, member):
    firm = post(client, member, body(unique(RAI_CYRILLIC, "64")))["firm_id"]

    response = client.get(
        f"/v1/firms/{firm}",
        params={"as_of": "2020-01-01T00:00:00Z"},
        headers=member.headers("investigator"),
    )
    bad = client.get(
        f"/v1/firms/{firm}", params={"as_of": "yesterday"}, headers=member.headers("investigator")
    )

    assert response.status_code == 404
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "query.as_of"


def test_a_phone_typed_any_way_finds_the_firm(client, member, other_member):
    firm = post(client, member, body(unique(RAI_CYRILLIC, "75")))["firm_id"]

    for typed in ("+7 (7252) 30-01-75", "8 7252 300175", "7252 300175", "+77252300175"):
        found = client.get(
            "/v1/firms", params={"q": typed}, headers=other_member.headers("investigator")
        ).json()
        assert [f["firm_id"] for f in found["items"]][:1] == [firm], typed


def test_a_name_in_another_script_finds_the_firm(client, member):
    post(client, member, body({"names": ["ЖШС «Алтын Көпір Тур»"], "country": "KZ"}))

    found = client.get(
        "/v1/firms", params={"q": "Altyn Kopir Tour"}, headers=member.headers()
    ).json()

    assert any(f["display_name"] == "ЖШС «Алтын Көпір Тур»" for f in found["items"])
    assert found["as_of_position"] > 0


def test_eight_threads_naming_one_phone_in_different_formats_end_on_one_firm(client, new_member):
    formats = [
        "+7 701 555 12 86",
        "87015551286",
        "8 (701) 555-12-86",
        "+77015551286",
        "7015551286",
        "8-701-555-1286",
        "+7 (701) 555 1286",
        "8 701 5551286",
    ]
    members = [new_member(f"Org {n}") for n in range(8)]

    def submit(n: int) -> str:
        subject = {
            "names": [f"Agency number {n} of 86"],
            "country": "KZ",
            "identifiers": [{"kind": "phone", "value": formats[n]}],
        }
        response = client.post(
            "/v1/reports", json=body(subject), headers=members[n].headers() | {"Prefer": "wait=0"}
        )
        assert response.status_code == 201
        return str(response.json()["id"])

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(submit, range(8)))
    last = client.get("/v1/reports", params={"limit": "1"}, headers=members[0].headers())
    assert last.status_code == 200
    firm = post(
        client,
        members[0],
        body(
            {
                "names": ["x 86"],
                "country": "KZ",
                "identifiers": [{"kind": "phone", "value": "+77015551286"}],
            }
        ),
    )["firm_id"]

    now = profile(client, members[0], firm)
    assert set(ids) <= set(now["report_ids"])
    assert now["organisations"] == 8


def test_linked_firms_become_one_and_the_later_id_redirects(client, member):
    a = post(client, member, body({"names": ["Sunrise Jobs 97"], "country": "KZ"}))["firm_id"]
    b = post(client, member, body({"names": ["Voskhod Rabota 97"], "country": "KZ"}))["firm_id"]
    assert a != b

    linked = client.post(
        "/v1/firms/links",
        json={"firm_ids": [a, b], "reason": "one office"},
        headers=member.headers("investigator"),
    )
    again = client.post(
        "/v1/firms/links",
        json={"firm_ids": [a, b], "reason": "again"},
        headers=member.headers("investigator"),
    )
    moved = client.get(
        f"/v1/firms/{b}", headers=member.headers("investigator"), follow_redirects=False
    )

    assert linked.status_code == 201, linked.text
    assert linked.json()["firm_id"] == a
    assert again.status_code == 409
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/v1/firms/{a}"
    assert moved.json() == {"merged_into": a}
    merged = profile(client, member, a)
    assert merged["reports"]["total"] == 2
    timeline = client.get(f"/v1/firms/{a}/timeline", headers=member.headers()).json()
    assert timeline["items"][-1]["kind"] == "linked"


def test_separation_keeps_firms_apart_even_when_a_phone_joins_them(client, member):
    phone = {"kind": "phone", "value": "+7 701 000 00 98"}
    a = post(client, member, body({"names": ["Alpha 98"], "country": "KZ"}))
    b = post(client, member, body({"names": ["Beta 98"], "country": "KZ"}))

    separated = client.post(
        "/v1/firms/separations",
        json={
            "firm_ids": [a["firm_id"], b["firm_id"]],
            "reason": "different directors, different offices",
        },
        headers=member.headers("investigator"),
    )
    joined_a = post(
        client, member, body({"names": ["Alpha 98"], "country": "KZ", "identifiers": [phone]})
    )
    joined_b = post(
        client, member, body({"names": ["Beta 98"], "country": "KZ", "identifiers": [phone]})
    )

    assert separated.status_code == 201
    assert joined_a["firm_id"] == a["firm_id"]
    assert joined_b["firm_id"] == b["firm_id"]


def test_only_investigators_and_admins_decide(client, member):
    a = post(client, member, body({"names": ["Gamma 99"], "country": "KZ"}))["firm_id"]
    b = post(client, member, body({"names": ["Delta 99"], "country": "KZ"}))["firm_id"]
    for role, status in (("reporter", 403), ("auditor", 403)):
        response = client.post(
            "/v1/firms/links",
            json={"firm_ids": [a, b], "reason": "x"},
            headers=member.headers(role),
        )
        assert response.status_code == status
    unknown = client.post(
        "/v1/firms/links",
        json={"firm_ids": [a, "00000000-0000-4000-8000-000000000000"], "reason": "x"},
        headers=member.headers("investigator"),
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["path"] == "$.firm_ids[1]"


def test_private_report_leaves_every_other_view_byte_identical(client, member, other_member):
    tag = "17"
    shared = post(client, member, body(unique(RAI_CYRILLIC, tag)))
    firm = shared["firm_id"]
    phone = unique(RAI_CYRILLIC, tag)["identifiers"][0]["value"]

    def seen_by_other() -> list[str]:
        headers = other_member.headers("investigator")
        return [
            client.get(f"/v1/firms/{firm}", headers=headers).text,
            client.get(f"/v1/firms/{firm}/timeline", headers=headers).text,
            client.get("/v1/firms", params={"q": phone}, headers=headers).text,
            client.get("/v1/firms", params={"q": f"Rai {tag} za granicei"}, headers=headers).text,
        ]

    before = seen_by_other()
    private = post(
        client,
        member,
        body(
            unique(RAI_LATIN, tag) | {"identifiers": [{"kind": "phone", "value": phone}]},
            sharing="private",
        ),
    )
    after = seen_by_other()

    # The log moved on, so positions differ; every other byte is the same.
    assert [without_positions(t) for t in after] == [without_positions(t) for t in before]
    assert private["id"] not in "".join(after)
    own = profile(client, member, firm)
    assert own["reports"]["total"] == 2
    assert private["id"] in own["report_ids"]


def test_a_nul_already_in_the_log_does_not_stop_the_projector(client, member, watchlist):
    """The API refuses U+0000; an event holding one from before must still project."""
    import msgspec

    from conftest import example_report
    from watchlist.domain.contract import ReportBody

    body = msgspec.convert(example_report() | {"narrative": "fee\x00paid"}, ReportBody)
    principal = watchlist.authenticate(member.keys["reporter"])
    recorded = watchlist.submit_report(principal, body)
    after = client.post(
        "/v1/reports", json=example_report(), headers=member.headers("reporter", Prefer="wait=10")
    )

    assert after.json()["projected"] is True
    firm = client.get(f"/v1/reports/{recorded.id}", headers=member.headers("reporter")).json()
    assert firm["report"]["narrative"] == "fee\x00paid"  # the log keeps what was written
    timeline = client.get(
        f"/v1/firms/{after.json()['firm_id']}", headers=member.headers("reporter")
    )
    assert timeline.status_code == 200
