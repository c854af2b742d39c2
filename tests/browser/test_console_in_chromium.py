"""The console and the public page in a real browser: headless Chromium from the
distribution (/usr/bin/chromium), driven by Playwright, against `watchlist up`.

A new user follows the README: starts Watchlist, signs in with the demo key it
prints, submits the README's example report through the form, finds the firm
by its phone typed another way, and checks it on the public page. A screenshot
of each main screen is saved in tests/browser/artifacts/.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from servers import Up, command_env
from watchlist.api.examples import EXAMPLE_REPORT
from watchlist.database import create_database, with_dbname

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
# Without the background-networking flags a closed network makes Chromium stall.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}

if not Path(CHROMIUM).exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs the chromium package", pytrace=False)
    pytest.skip(
        f"{CHROMIUM} is missing: apt-get install chromium to run the browser tests",
        allow_module_level=True,
    )

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture(scope="module")
def server(
    database: Any, master_key: bytes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Up]:
    """`watchlist up` on a free port and a database of its own, as a new user starts it: it
    prints a demo key, and the README's firm is the README's alone. One organisation's
    report is enough for the public page here."""
    env = command_env(database, master_key, tmp_path_factory.mktemp("browser") / "data")
    env["WATCHLIST_PUBLIC_MIN_ORGANISATIONS"] = "1"
    server_url = os.environ.get("WATCHLIST_TEST_DATABASE_URL")
    own = f"watchlist_browser_{os.getpid()}_{secrets.token_hex(3)}"
    if not database.embedded and server_url:
        create_database(server_url, own)
        env["WATCHLIST_DATABASE_URL"] = with_dbname(server_url, own)
    up = Up(env)
    try:
        yield up
    finally:
        up.process.terminate()
        up.process.communicate(timeout=60)
        if not database.embedded and server_url:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(own))
                )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, server: Up) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, locale="en-GB")
    context.set_default_timeout(20_000)
    opened = context.new_page()
    yield opened
    context.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, server: Up) -> None:
    key = server.demo_key()
    assert key, server.lines
    page.goto("/console/")
    expect(page.get_by_role("heading", name="Sign in to Watchlist")).to_be_visible()
    page.get_by_label("Your organisation's API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Quick check")).to_be_visible()


def fill_report(page: Any, body: dict[str, Any]) -> None:
    subject, incident = body["subject"], body["incident"]
    page.get_by_label("Names, one a line").fill("\n".join(subject["names"]))
    page.get_by_label("Country of the recruiter").fill(subject["country"])
    for i, identifier in enumerate(subject["identifiers"]):
        page.get_by_label(f"Kind {i + 1}", exact=True).select_option(identifier["kind"])
        page.get_by_label(f"Value {i + 1}", exact=True).fill(identifier["value"])
    page.get_by_label("Addresses, one a line").fill("\n".join(subject["addresses"]))
    page.get_by_label("Websites, one a line").fill("\n".join(subject["websites"]))
    page.get_by_label("Date", exact=True).fill(incident["date"])
    page.get_by_label("Region", exact=True).fill(incident["region"])
    page.get_by_label("Destination country").fill(incident["destination_country"])
    page.get_by_label("Job offered").fill(incident["job_offered"])
    page.get_by_label("How it reached you").select_option(incident["channel"])
    for indicator in body["indicators"]:
        select = page.locator(f"select[name='indicator.{indicator['code']}']")
        group = select.locator("xpath=ancestor::details")
        if group.get_attribute("open") is None:
            group.locator("summary").click()
        select.select_option(indicator["grade"])
    page.get_by_label("What happened").fill(body["narrative"])
    page.get_by_label("Reliability of the source").select_option(body["source"]["reliability"])
    page.get_by_label("Credibility of the information").select_option(
        str(body["source"]["credibility"])
    )
    page.get_by_label("partners: all member organisations").check()
    confidential = body["confidential"]
    page.get_by_label("Caller's name").fill(confidential["caller_name"])
    page.get_by_label("Caller's phone").fill(confidential["caller_phone"])
    page.get_by_label("Notes").fill(confidential["notes"])


def test_a_new_user_follows_the_readme_from_sign_in_to_the_public_page(page, server):
    sign_in(page, server)
    shot(page, "1-quick-check-empty")

    page.get_by_role("link", name="New report").click()
    expect(page.get_by_role("heading", name="New report")).to_be_visible()
    expect(page.get_by_text("Confidential: stays with your organisation")).to_be_visible()
    fill_report(page, EXAMPLE_REPORT)
    shot(page, "2-report-form")
    page.get_by_role("button", name="Submit report").click()

    expect(page.get_by_role("heading", name="Report recorded")).to_be_visible()
    firm_link = page.locator("#report-firm")
    expect(firm_link).to_have_text("ТОО «Рай за границей»")
    expect(page.locator(".outcome .level")).to_have_text(re.compile("low|medium|high|critical"))
    expect(page.get_by_text("A. K.")).to_be_visible()  # our own confidential part
    shot(page, "3-report-recorded")

    firm_link.click()
    expect(page.get_by_role("heading", name=re.compile("ТОО «Рай за границей»"))).to_be_visible()
    explanation = page.locator("ol.explanation")
    expect(explanation).to_contain_text("Agency has no licence for recruitment abroad")
    expect(explanation).to_contain_text("Demo hotline")
    expect(page.locator("figure.chart svg rect").first).to_be_visible()
    expect(page.get_by_role("button", name="Link: these are one firm")).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text("Demo hotline reported")
    shot(page, "4-firm")

    page.get_by_role("link", name="Quick check").click()
    page.get_by_label("Name or phone of the recruiter").press_sequentially("8 7252 300152")
    result = page.locator("#results").get_by_role("link", name="ТОО «Рай за границей»")
    expect(result).to_be_visible()  # as typed: no button pressed
    row = page.locator("#results tbody tr").first
    expect(row).to_contain_text("not checked")
    expect(row).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    shot(page, "5-quick-check-results")

    page.goto("/check?lang=kk")
    expect(
        page.get_by_role("heading", name="Жұмысқа орналастыру агенттігін тексеріңіз")
    ).to_be_visible()
    page.get_by_label("Агенттік атауы немесе телефон нөмірі").fill("+7 725 230 01 52")
    page.get_by_role("button", name="Тексеру").click()
    card = page.locator("article.card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("ТОО «Рай за границей»")
    expect(card).to_contain_text("Хабарлаған ұйымдар саны")
    expect(card).not_to_contain_text("Demo hotline")  # the public learns no organisation
    expect(card).not_to_contain_text("A. K.")
    expect(page.locator("aside.hotline")).to_contain_text("сенім телефонына")
    shot(page, "6-public-check-kk")


def test_a_bad_field_is_shown_beside_it(page, server):
    sign_in(page, server)
    page.goto("/console/reports/new")
    page.get_by_label("Names, one a line").fill("Golden Bridge Travel")
    country = page.get_by_label("Country of the recruiter")
    country.fill("Kazakhstan")
    page.get_by_label("private: our organisation only").check()
    page.get_by_role("button", name="Submit report").click()

    expect(page.get_by_role("alert")).to_contain_text("The report was not saved")
    expect(country).to_have_attribute("aria-invalid", "true")
    expect(country).to_have_value("Kazakhstan")
    message = page.locator("#f-subject-country-error")
    expect(message).to_have_text(re.compile("Two capital letters of the ISO country code"))
    expect(country).to_have_attribute("aria-describedby", "f-subject-country-error")
    expect(page.locator("#f-source-reliability-error")).to_be_visible()
    same_field = country.locator("xpath=..").locator(".error")
    expect(same_field).to_be_visible()  # beside it: in the field's own box
    shot(page, "7-validation-error")


def test_russian_console_and_keyboard_navigation(page, server):
    sign_in(page, server)
    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name="Быстрая проверка")).to_be_visible()

    search = page.get_by_label("Название или телефон агентства, в любом написании")
    expect(search).to_be_focused()  # the operator types at once
    page.keyboard.type("Rai Za Granitsei")
    page.keyboard.press("Enter")
    expect(page.locator("#results tbody tr").first).to_be_visible()

    page.goto("/console/reports/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Перейти к содержимому")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.goto("/console/reports/new")
    expect(page.get_by_text("Конфиденциально: остаётся в вашей организации")).to_be_visible()
    expect(
        page.get_by_text("У агентства нет лицензии на трудоустройство за рубежом")
    ).to_have_count(1)
    shot(page, "8-report-form-ru")


def test_phone_sized_screens_need_no_sideways_scrolling(browser, server):
    context = browser.new_context(base_url=server.url, viewport=PHONE, is_mobile=True)
    phone = context.new_page()
    try:
        sign_in(phone, server)
        phone.get_by_label("Name or phone of the recruiter").press_sequentially("Rai Za Granitsei")
        expect(phone.locator("#results tbody tr").first).to_be_visible()
        for path, name in (
            ("/console/?q=Rai%20Za", "9-phone-quick-check"),
            ("/console/reports/new", "10-phone-report-form"),
            ("/check?lang=ru&q=Rai%20Za%20Granitsei", "11-phone-public-check"),
        ):
            phone.goto(path)
            overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
            shot(phone, name)
    finally:
        context.close()


def test_auditor_screens(page, server):
    sign_in(page, server)  # the demo key is an admin's: it may audit
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Access log")).to_be_visible()
    expect(page.locator("table.log")).to_contain_text("/console/sign-in")
    shot(page, "12-audit-access-log")
    page.get_by_role("link", name="Verify the log").click()
    page.get_by_role("button", name="Run verification").click()
    expect(page.get_by_role("heading", name="The log verifies")).to_be_visible()
    shot(page, "13-audit-verify")
