"""Bad input gets a clear 4xx problem naming the field, and nothing is written."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from conftest import example_report
from watchlist.api.examples import EXAMPLE_REPORT

URL = "/v1/reports"


def mutated(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE_REPORT)
    change(body)
    return body


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[part]
        del target[last]

    return change


# (case, body, the paths the problem must name)
INVALID_BODIES = [
    ("wrong type", mutated(_set("source.credibility", "two")), ["$.source.credibility"]),
    ("credibility out of range", mutated(_set("source.credibility", 9)), ["$.source.credibility"]),
    ("unknown top-level field", mutated(_set("priority", "high")), ["$.priority"]),
    ("unknown nested field", mutated(_set("subject.nickname", "x")), ["$.subject.nickname"]),
    (
        "unknown indicator code",
        mutated(_set("indicators.0.code", "alien_abduction")),
        ["$.indicators[0].code"],
    ),
    ("lower-case country", mutated(_set("subject.country", "kz")), ["$.subject.country"]),
    ("no such country", mutated(_set("subject.country", "XX")), ["$.subject.country"]),
    (
        "bad destination",
        mutated(_set("incident.destination_country", "Cyprus")),
        ["$.incident.destination_country"],
    ),
    ("future date", mutated(_set("incident.date", "2999-01-01")), ["$.incident.date"]),
    ("not a date", mutated(_set("incident.date", "2026-02-30")), ["$.incident.date"]),
    ("no names", mutated(_set("subject.names", [])), ["$.subject.names"]),
    ("blank name", mutated(_set("subject.names", ["   "])), ["$.subject.names[0]"]),
    ("empty name", mutated(_set("subject.names", [""])), ["$.subject.names[0]"]),
    (
        "unknown identifier kind",
        mutated(_set("subject.identifiers.0.kind", "fax")),
        ["$.subject.identifiers[0].kind"],
    ),
    ("unknown channel", mutated(_set("incident.channel", "pigeon")), ["$.incident.channel"]),
    ("unknown grade", mutated(_set("indicators.1.grade", "certain")), ["$.indicators[1].grade"]),
    ("unknown sharing", mutated(_set("sharing", "public")), ["$.sharing"]),
    ("missing subject", mutated(_drop("subject")), ["$"]),
    ("overlong narrative", mutated(_set("narrative", "x" * 20_001)), ["$.narrative"]),
    ("too many names", mutated(_set("subject.names", ["n"] * 21)), ["$.subject.names"]),
    (
        "several problems at once",
        mutated(
            lambda b: (
                _set("subject.country", "kz")(b),
                _set("source.reliability", "Z")(b),
                _set("indicators.0.code", "nope")(b),
            )
        ),
        ["$.subject.country", "$.source.reliability"],
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "paths"), INVALID_BODIES, ids=[c[0] for c in INVALID_BODIES]
)
def test_invalid_body_is_422_naming_each_field(client, member, count_events, case, body, paths):
    before = count_events()

    response = client.post(URL, json=body, headers=member.headers())

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:watchlist:problem:invalid-input"
    named = {error["path"] for error in problem["errors"]}
    assert set(paths) <= named, named
    assert count_events() == before


def test_every_semantic_problem_is_listed_together(client, member, count_events):
    body = mutated(
        lambda b: (
            _set("subject.country", "XX")(b),
            _set("incident.date", "2999-01-01")(b),
            _set("indicators.0.code", "nope")(b),
        )
    )

    problem = client.post(URL, json=body, headers=member.headers()).json()

    assert {e["path"] for e in problem["errors"]} == {
        "$.subject.country",
        "$.incident.date",
        "$.indicators[0].code",
    }
    assert any("nope" in e["message"] for e in problem["errors"])


@pytest.mark.parametrize(
    ("case", "content", "content_type", "status"),
    [
        ("not JSON", b"{not json", "application/json", 400),
        ("JSON array", b"[1, 2]", "application/json", 422),
        # A value of the wrong type, then more: the type is wrong, but the document is not JSON.
        ("a number, then a quote", b"3'", "application/json", 400),
        ("a number, then bytes not UTF-8", b"2\xbf\x05", "application/json", 400),
        ("an array, then a brace", b"[]}", "application/json", 400),
        ("empty body", b"", "application/json", 400),
        ("1 MiB body", b'{"narrative": "' + b"x" * (1024 * 1024) + b'"}', "application/json", 413),
        ("form body", b"subject=x", "application/x-www-form-urlencoded", 415),
        ("text body", json.dumps(EXAMPLE_REPORT).encode(), "text/plain", 415),
    ],
)
def test_malformed_request_is_a_4xx_problem_and_writes_nothing(
    client, member, count_events, case, content, content_type, status
):
    before = count_events()

    response = client.post(
        URL, content=content, headers=member.headers(**{"Content-Type": content_type})
    )

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].startswith("urn:watchlist:problem:")
    assert count_events() == before


def test_overlong_idempotency_key_is_refused_naming_the_header(client, member, count_events):
    before = count_events()

    response = client.post(
        URL, json=example_report(), headers=member.headers(**{"Idempotency-Key": "k" * 201})
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in json.dumps(response.json())
    assert count_events() == before


@pytest.mark.parametrize("if_match", ['"one"', "*", '"-1"'])
def test_malformed_if_match_is_400(client, member, if_match):
    report_id = client.post(URL, json=example_report(), headers=member.headers()).json()["id"]

    response = client.post(
        f"{URL}/{report_id}/amendments",
        json=EXAMPLE_REPORT | {"reason": "x"},
        headers=member.headers(**{"If-Match": if_match}),
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "header.If-Match"


def test_retraction_needs_a_reason(client, member, count_events):
    report_id = client.post(URL, json=example_report(), headers=member.headers()).json()["id"]
    before = count_events()

    response = client.post(
        f"{URL}/{report_id}/retraction", json={"reason": ""}, headers=member.headers()
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "$.reason"
    assert count_events() == before


def test_unknown_route_and_method_are_problems(client, member):
    assert client.get("/v1/nothing-here", headers=member.headers()).status_code == 404
    response = client.delete(URL, headers=member.headers())
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")


def test_options_answers_every_route_never_a_server_error(client, member):
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert any(path.startswith("/v1/audit/") for path in paths)  # the guarded controller's too
    for path in paths:
        url = re.sub(r"\{[^}]+\}", str(uuid.UUID(int=1)), path)
        for headers in ({}, member.headers()):
            answer = client.options(url, headers=headers)

            assert answer.status_code == 204, (path, answer.status_code, answer.text)
            assert "OPTIONS" in answer.headers["allow"]


@pytest.mark.parametrize(
    ("where", "escape"),
    [("narrative", "\\u0000"), ("names", "\\u0007"), ("narrative", "\\f")],
)
def test_a_control_character_is_refused_and_named(client, member, count_events, where, escape):
    body = json.dumps(example_report())
    if where == "narrative":
        body = body.replace('"narrative": "', f'"narrative": "fee{escape}', 1)
        path = "$.narrative"
    else:
        body = body.replace('"names": ["', f'"names": ["ТОО{escape}', 1)
        path = "$.subject.names[0]"
    before = count_events()

    answer = client.post(
        "/v1/reports",
        content=body,
        headers=member.headers("reporter", **{"Content-Type": "application/json"}),
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == path
    assert "control character" in answer.json()["errors"][0]["message"]
    assert count_events() == before


def test_tabs_and_newlines_are_welcome(client, member):
    body = example_report() | {"narrative": "line one\n\tline two\r\n"}

    answer = client.post("/v1/reports", json=body, headers=member.headers("reporter"))

    assert answer.status_code == 201
