"""Acting in the console as a browser does: CSRF tokens from pages, forms as people fill them."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from conftest import example_report

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient[Any], path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found, f"no CSRF field on {path}"
    return found[1]


def sign_in(client: TestClient[Any], key: str) -> Any:
    token = csrf_token(client, "/console/sign-in")
    return client.post(
        "/console/sign-in",
        data={"key": key, "_csrf_token": token, "next": "/console/"},
        follow_redirects=False,
    )


def post_form(client: TestClient[Any], path: str, form: dict[str, str], page: str) -> Any:
    """Post a form as the browser would: with the token from the page it sits on."""
    token = csrf_token(client, page)
    return client.post(path, data={**form, "_csrf_token": token}, follow_redirects=False)


def submitted(client: TestClient[Any], body: dict[str, Any] | None = None) -> str:
    """Submit a report through the form; the path of its page."""
    answer = post_form(
        client, "/console/reports/", report_form(body or example_report()), "/console/reports/new"
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"]).split("?")[0]


def report_form(body: dict[str, Any]) -> dict[str, str]:
    """The README's example report as a person fills in the console's form."""
    subject, incident = body["subject"], body["incident"]
    form = {
        "subject.names": "\n".join(subject["names"]),
        "subject.country": subject["country"],
        "subject.addresses": "\n".join(subject.get("addresses", [])),
        "subject.websites": "\n".join(subject.get("websites", [])),
        "narrative": body["narrative"],
        "source.reliability": body["source"]["reliability"],
        "source.credibility": str(body["source"]["credibility"]),
        "sharing": body["sharing"],
    }
    for i, identifier in enumerate(subject["identifiers"]):
        form[f"subject.identifiers.{i}.kind"] = identifier["kind"]
        form[f"subject.identifiers.{i}.value"] = identifier["value"]
    for name, value in incident.items():
        form[f"incident.{name}"] = value
    for indicator in body["indicators"]:
        form[f"indicator.{indicator['code']}"] = indicator["grade"]
    for name, value in body.get("confidential", {}).items():
        form[f"confidential.{name}"] = value
    return form
