"""The console through the test client: sign-in, CSRF, the report form, the firm page,
the access log and the public page, as a person in a browser would meet them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from console_helpers import post_form, report_form, sign_in, submitted
from litestar.testing import TestClient

from conftest import example_report
from watchlist.api.app import create_app


@pytest.fixture
def console(watchlist: Any, settings: Any, projector: Any) -> Iterator[TestClient[Any]]:
    """A browser of its own, over HTTPS so Secure cookies travel: signed in to nothing yet."""
    with TestClient(create_app(watchlist, settings), base_url="https://testserver.local") as c:
        yield c


def firm_page(console: Any, report_page: str) -> str:
    """The path of the firm a report's page names."""
    return str(
        re.search(r'href="(/console/firms/[0-9a-f-]{36})"', console.get(report_page).text)[1]
    )


def signed_in(console: Any, member: Any, role: str = "reporter") -> Any:
    answer = sign_in(console, member.keys[role])
    assert answer.status_code == 303
    return console


def test_console_sends_a_stranger_to_sign_in(console):
    answer = console.get("/console/reports/new", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/sign-in?next=/console/reports/new")


def test_sign_in_keeps_no_key_in_the_cookie_which_is_http_only_and_secure(console, member):
    answer = sign_in(console, member.keys["reporter"])

    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("watchlist_session=")
    )
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "samesite=lax" in cookie.lower()
    assert member.keys["reporter"] not in cookie
    assert member.keys["reporter"].split("_", 2)[2] not in cookie
    page = console.get("/console/")
    assert page.status_code == 200
    assert "Quick check" in page.text


def test_an_unknown_key_is_refused_on_the_page(console):
    answer = sign_in(console, "wl_00000000000000000000000000000000_nonsense")

    assert answer.status_code == 401
    assert "This key is unknown or revoked." in answer.text


def test_a_form_without_its_csrf_token_is_refused_and_nothing_is_written(
    console, member, count_events
):
    signed_in(console, member)
    before = count_events()

    answer = console.post(
        "/console/reports/", data=report_form(example_report()), follow_redirects=False
    )

    assert answer.status_code == 403
    assert count_events() == before


def test_sign_out_ends_the_session(console, member):
    signed_in(console, member)
    answer = post_form(console, "/console/sign-out", {}, "/console/")

    assert answer.status_code == 303
    assert console.get("/console/", follow_redirects=False).status_code == 303


def test_a_revoked_key_signs_its_session_out(console, member, watchlist):
    signed_in(console, member)
    key_id = watchlist.authenticate(member.keys["reporter"]).key_id
    watchlist.revoke_key(key_id)

    assert console.get("/console/", follow_redirects=False).status_code == 303


def test_report_from_the_form_is_recorded_and_shows_its_firm_and_level(console, member):
    signed_in(console, member)
    body = example_report()

    answer = post_form(console, "/console/reports/", report_form(body), "/console/reports/new")

    assert answer.status_code == 303
    report_page = console.get(answer.headers["location"])
    assert report_page.status_code == 200
    assert body["subject"]["names"][0] in report_page.text
    assert "Report recorded" in report_page.text
    assert "Risk level" in report_page.text
    firm_link = re.search(r'href="/console/firms/([0-9a-f-]{36})"', report_page.text)
    assert firm_link, "the report page names its firm"
    assert "A. K." in report_page.text  # our own confidential part, for us


def test_a_bad_field_is_named_beside_it_and_nothing_is_written(console, member, count_events):
    signed_in(console, member)
    form = report_form(example_report())
    form["subject.country"] = "Kazakhstan"
    form["source.reliability"] = ""
    before = count_events()

    answer = post_form(console, "/console/reports/", form, "/console/reports/new")

    assert answer.status_code == 422
    assert count_events() == before
    country = re.search(
        r'<input type="text" id="f-subject-country"[^>]*aria-describedby="f-subject-country-error"',
        answer.text,
    )
    assert country, "the country input points at its message"
    assert (
        '<p class="error" id="f-subject-country-error">Two capital letters of the ISO country '
        "code, e.g. KZ</p>" in answer.text
    )
    assert 'id="f-source-reliability-error"' in answer.text
    assert 'value="Kazakhstan"' in answer.text  # what was typed stays typed


def test_an_unknown_country_code_from_the_domain_checks_is_shown_beside_the_field(console, member):
    signed_in(console, member)
    form = report_form(example_report())
    form["subject.country"] = "XX"

    answer = post_form(console, "/console/reports/", form, "/console/reports/new")

    assert answer.status_code == 422
    assert "&#39;XX&#39; is not an ISO 3166-1 code" in answer.text


def test_the_form_is_in_russian_with_the_taxonomy_labels(console, member):
    signed_in(console, member)

    page = console.get("/console/reports/new?lang=ru")

    assert "Новое сообщение" in page.text
    assert "У агентства нет лицензии на трудоустройство за рубежом" in page.text
    assert "Конфиденциально: остаётся в вашей организации" in page.text
    assert console.get("/console/reports/new").text.count("Новое сообщение") > 0  # remembered


def test_quick_check_finds_the_firm_by_its_phone_typed_another_way(console, member):
    signed_in(console, member)
    body = example_report()
    submitted(console, body)
    digits = re.sub(r"\D", "", body["subject"]["identifiers"][0]["value"])  # 77252xxxxxx
    typed = f"8 {digits[1:5]} {digits[5:]}"

    results = console.get("/console/results", params={"q": typed})

    assert results.status_code == 200
    assert body["subject"]["names"][0] in results.text
    assert "medium" in results.text or "high" in results.text
    assert "not checked" in results.text


def test_amend_and_retract_own_report(console, member):
    signed_in(console, member)
    body = example_report()
    location = submitted(console, body)
    form = report_form(body) | {"narrative": "The caller called back.", "reason": "call back"}
    form["version"] = "1"

    amended = post_form(console, f"{location}/amend", form, f"{location}/amend")
    assert amended.status_code == 303
    page = console.get(location)
    assert "The caller called back." in page.text
    assert ">2<" in page.text  # version 2

    retraction = {"reason": "wrong agency", "version": "2"}
    retracted = post_form(console, f"{location}/retraction", retraction, location)
    assert retracted.status_code == 303
    assert "retracted: wrong agency" in console.get(location).text


def test_amendment_without_reason_is_refused_beside_the_reason(console, member):
    signed_in(console, member)
    location = submitted(console)

    form = report_form(example_report()) | {"version": "1"}  # the page's hidden field

    answer = post_form(console, f"{location}/amend", form, f"{location}/amend")

    assert answer.status_code == 422
    assert 'id="f-reason-error"' in answer.text


def test_firm_page_explains_the_risk_and_investigators_may_decide(console, member):
    signed_in(console, member, "admin")
    body = example_report()
    location = submitted(console, body)
    firm = firm_page(console, location)

    page = console.get(firm)

    assert page.status_code == 200
    assert "Why this level" in page.text
    assert "Agency has no licence for recruitment abroad" in page.text  # by its label
    assert "<svg" in page.text
    assert "Link: these are one firm" in page.text
    refused = post_form(console, f"{firm}/licence-checks", {"registry": ""}, firm)
    assert refused.status_code == 422
    assert 'id="e-licence-registry"' in refused.text


def test_a_reporter_sees_no_decisions_and_may_not_post_one(console, member):
    signed_in(console, member, "reporter")
    location = submitted(console)
    firm = firm_page(console, location)

    assert "Link: these are one firm" not in console.get(firm).text
    answer = post_form(console, f"{firm}/decisions", {"other": firm[-36:], "reason": "x"}, firm)
    assert answer.status_code == 403
    assert "Your role may not do this." in answer.text


def test_console_requests_are_in_the_access_log_with_the_principal(console, member, watchlist):
    signed_in(console, member)
    location = submitted(console)
    report_id = location.rsplit("/", 1)[1]
    console.get(location)

    rows = watchlist.access_log(organisation=member.organisation_id, limit=50).items
    key_id = watchlist.authenticate(member.keys["reporter"]).key_id
    paths = {(r.method, r.path) for r in rows}
    assert ("POST", "/console/sign-in") in paths
    assert ("POST", "/console/reports") in paths
    assert ("GET", location) in paths
    submission = next(r for r in rows if r.method == "POST" and r.path == "/console/reports")
    assert submission.key_id == key_id
    assert submission.role == "reporter"
    assert [str(r) for r in submission.report_ids] == [report_id]


def test_audit_pages_for_auditors_only(console, member):
    signed_in(console, member, "auditor")

    assert "Access log" in console.get("/console/audit/").text
    assert console.get("/console/audit/checkpoints").status_code == 200
    verdict = post_form(console, "/console/audit/verify", {}, "/console/audit/verify")
    assert verdict.status_code == 200
    assert "The log verifies" in verdict.text
    bad = console.get("/console/audit/", params={"since": "yesterday"})
    assert bad.status_code == 422


def test_a_reporter_may_not_read_the_access_log(console, member):
    signed_in(console, member, "reporter")

    assert console.get("/console/audit/").status_code == 403


def test_public_page_speaks_three_languages_and_gives_the_hotline(console):
    for lang, title in (
        ("en", "Check a recruitment agency"),
        ("ru", "Проверьте кадровое агентство"),
        ("kk", "Жұмысқа орналастыру агенттігін тексеріңіз"),
    ):
        page = console.get("/check", params={"lang": lang, "q": "nothing like this"})
        assert page.status_code == 200
        assert title in page.text
        assert f'<html lang="{lang}">' in page.text
    assert "сенім телефонына" in page.text


def test_csrf_does_not_touch_the_json_api(client, member, report_body):
    answer = client.post("/v1/reports", json=report_body, headers=member.headers())

    assert answer.status_code == 201
    assert "set-cookie" not in answer.headers


def test_the_public_page_is_in_the_access_log_as_a_public_check(console, watchlist):
    console.get("/check", params={"q": "Olympus Travel"})

    rows = watchlist.access_log(limit=20).items
    assert any(r.role == "public" and r.path == "/check" and r.client for r in rows)


def test_the_stylesheet_and_script_are_served_locally(console):
    assert console.get("/static/console.css").status_code == 200
    assert console.get("/static/console.js").status_code == 200
    page = console.get("/check").text
    assert "http://" not in page.split("<body>")[0]
    assert "https://" not in page.split("<body>")[0]


def test_a_firm_that_does_not_exist_is_a_page_not_json(console, member):
    signed_in(console, member)

    answer = console.get("/console/firms/00000000-0000-4000-8000-000000000000")

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Nothing here." in answer.text


def test_every_bad_field_of_a_form_is_named_at_once(console, member):
    signed_in(console, member)
    form = {
        "subject.names": "Golden Bridge",
        "subject.identifiers.0.kind": "fax",
        "subject.identifiers.0.value": "1",
        "indicator.no_licence": "certain",
        "source.credibility": "abc",
        "incident.date": "2026-13-45",
    }

    answer = post_form(console, "/console/reports/", form, "/console/reports/new")

    assert answer.status_code == 422
    named = set(re.findall(r'<p class="error" id="f-([^"]+)-error">', answer.text))
    assert named == {
        "subject-country",
        "subject-identifiers-0-kind",
        "incident-date",
        "indicator-no_licence",
        "source-reliability",
        "source-credibility",
        "sharing",
    }
    assert "A date: year-month-day" in answer.text


def test_retraction_without_a_reason_is_refused_beside_the_reason(console, member, count_events):
    signed_in(console, member)
    location = submitted(console)
    before = count_events()

    answer = post_form(console, f"{location}/retraction", {"reason": "  "}, location)

    assert answer.status_code == 422
    assert '<p class="error" id="retract-reason-error">This is required</p>' in answer.text
    assert count_events() == before


def test_a_disputed_report_is_resolved_from_its_page(console, client, member):
    signed_in(console, member)
    location = submitted(console)
    report_id = location.rsplit("/", 1)[1]
    firm = re.search(r'href="/console/firms/([0-9a-f-]{36})"', console.get(location).text)[1]
    filed = client.post(
        f"/v1/firms/{firm}/replies",
        json={
            "statement": "We are licensed; the caller was never our client.",
            "received_on": "2026-10-10",
            "disputed_reports": [report_id],
        },
        headers=member.headers("investigator"),
    )
    assert filed.status_code == 201
    firm_page = console.get(f"/console/firms/{firm}").text
    assert "We are licensed; the caller was never our client." in firm_page
    assert "Reports disputed, pending" in firm_page

    refused = post_form(console, f"{location}/dispute-resolution", {"reason": "x"}, location)
    assert refused.status_code == 422
    assert 'id="resolve-outcome-error"' in refused.text

    upheld = post_form(
        console,
        f"{location}/dispute-resolution",
        {"outcome": "upheld", "reason": "two callers confirm the fee demand"},
        location,
    )
    assert upheld.status_code == 303
    page = console.get(location).text
    assert "The firm disputes this report" not in page
    assert "upheld" in page


def test_an_investigator_records_the_firms_reply_from_the_firm_page(console, new_member, client):
    member = new_member("Turkistan migrant support")
    signed_in(console, member, "admin")
    body = example_report()
    location, again = submitted(console, body), submitted(console, body)
    ids = [path.rsplit("/", 1)[1] for path in (location, again)]
    firm = firm_page(console, location)

    refused = console.post(
        f"{firm}/replies",
        data={
            "statement": "Never our client.",
            "received_on": "2099-01-01",
            "disputed_reports": ids,
            "_csrf_token": re.search(r'name="_csrf_token" value="([^"]+)"', console.get(firm).text)[
                1
            ],
        },
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert '<p class="error" id="e-reply-received_on">is in the future</p>' in refused.text

    filed = post_form(
        console,
        f"{firm}/replies",
        {"statement": "Never our client.", "received_on": "2026-10-10", "disputed_reports": ids},
        firm,
    )
    assert filed.status_code == 303
    page = console.get(firm).text
    assert "Never our client." in page
    assert page.count('href="/console/reports/') >= 2
    for report_id in ids:
        assert (
            client.get(f"/v1/reports/{report_id}", headers=member.headers()).json()["dispute"]
            == "pending"
        )


def test_pages_are_not_cached_nor_framed(console, member):
    signed_in(console, member)
    location = submitted(console)

    page = console.get(location)

    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_a_control_character_is_refused_beside_its_field(console, member, count_events):
    signed_in(console, member)
    form = report_form(example_report()) | {"narrative": "fee paid\x00 in cash"}
    before = count_events()

    answer = post_form(console, "/console/reports/", form, "/console/reports/new")

    assert answer.status_code == 422
    assert "contains control character U+0000" in answer.text
    assert count_events() == before


def test_digits_int_cannot_read_are_a_field_error_not_a_crash(console, member, count_events):
    signed_in(console, member)
    before = count_events()

    answer = post_form(
        console,
        "/console/reports/",
        report_form(example_report()) | {"source.credibility": "\u00b2"},
        "/console/reports/new",
    )

    assert answer.status_code == 422
    assert 'id="f-source-credibility-error"' in answer.text
    assert count_events() == before


def test_a_forged_version_is_refused_and_nothing_changes(console, member, count_events):
    signed_in(console, member)
    body = example_report()
    location = submitted(console, body)
    before = count_events()
    form = report_form(body) | {"reason": "call back", "version": "9" * 5000}

    amended = post_form(console, f"{location}/amend", form, f"{location}/amend")
    retracted = post_form(
        console, f"{location}/retraction", {"reason": "x", "version": "\u00b2"}, location
    )

    assert amended.status_code == 422
    assert "This page is out of date" in amended.text
    assert retracted.status_code == 422
    assert "This page is out of date" in retracted.text
    assert count_events() == before


def test_a_huge_identifier_index_is_not_a_row_count(console, member):
    """One small form must not make the server render a million rows."""
    signed_in(console, member)
    form = report_form(example_report()) | {
        "subject.identifiers.999999.value": "x",
        "subject.country": "XX",
    }

    answer = post_form(console, "/console/reports/", form, "/console/reports/new")

    assert answer.status_code == 422
    assert answer.text.count('name="subject.identifiers.') <= 2 * 50


def test_the_quick_check_names_the_firms_it_listed_in_the_access_log(console, member, watchlist):
    signed_in(console, member)
    body = example_report()
    firm = firm_page(console, submitted(console, body))[-36:]
    typed = body["subject"]["identifiers"][0]["value"]

    results = console.get("/console/results", params={"q": typed})

    assert firm in results.text
    rows = watchlist.access_log(organisation=member.organisation_id, limit=20).items
    entry = next(r for r in rows if r.path == "/console/results")
    assert firm in {str(f) for f in entry.firm_ids}
    assert all(str(f) in results.text for f in entry.firm_ids)


def test_a_name_and_a_narrative_written_as_html_show_as_the_text_typed(console, member):
    # A hotline types what a caller read out; a recruiter's "name" may be markup, and an
    # investigator's browser must show it, never run it.
    signed_in(console, member)
    hostile = '<img src=x onerror="alert(1)">'
    body = example_report()
    body["subject"]["names"] = [f"{hostile} Travel"]
    body["narrative"] = "<script>alert('narrative')</script> offered a job"
    report = submitted(console, body)
    firm = firm_page(console, report)
    typed = body["subject"]["identifiers"][0]["value"]

    pages = [
        console.get(report).text,
        console.get(firm).text,
        console.get("/console/results", params={"q": typed}).text,
    ]

    for text in pages:
        assert "<img src=x" not in text
        assert "<script>alert(" not in text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Travel" in pages[1]
    assert "&lt;script&gt;alert(&#39;narrative&#39;)&lt;/script&gt;" in pages[0]
