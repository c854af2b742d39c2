"""Name search as an operator sees it: the firm named by a rare word first, however many
other firms share its trade word, and never an unbounded list."""

from __future__ import annotations

import base64
import copy
import secrets
from typing import Any

import pytest

from projector import queries, search
from watchlist.api.examples import EXAMPLE_REPORT

# Letters written alike in Latin and Cyrillic, and left alone by the name folding.
CYRILLIC = dict(zip("bdgklmnprstvzaeou", "бдгклмнпрствзаеоу", strict=True))
# Fewer firm postings than the firms sharing a trade word below: a search that took its
# candidates from the trade word would miss the firm it is looking for.
FEW_CANDIDATES = 8
SHARING_A_TRADE = 20


def made_up_word() -> str:
    """A word no other test uses, spelt so that it reads the same in either script.

    No three letters recur in it: a word such as "Bubububu" has so few distinct trigrams
    that, typed a letter off, it is too unlike a longer name holding it to find it (about
    one word in 1,400 drawn without this rule).
    """
    while True:
        word = "".join(secrets.choice("bdgklmnprstvz") + secrets.choice("aeou") for _ in range(4))
        if len({word[i : i + 3] for i in range(len(word) - 2)}) == len(word) - 2:
            return word.capitalize()


def in_cyrillic(word: str) -> str:
    return "".join(CYRILLIC[letter] for letter in word.lower()).capitalize()


def submit(
    client: Any, member: Any, watchlist: Any, names: list[str], sharing: str = "partners"
) -> list[str]:
    """One report per name, all projected; the firm ids, in order."""
    firms = []
    for name in names:
        report = copy.deepcopy(EXAMPLE_REPORT)
        report["subject"] = {"names": [name], "country": "KZ"}
        report["sharing"] = sharing
        answer = client.post("/v1/reports", json=report, headers=member.headers())
        assert answer.status_code == 201, answer.text
        assert answer.json()["projected"] is True
        firms.append(answer.json()["firm_id"])
    return firms


def weak_report(name: str) -> dict[str, Any]:
    """A report on ``name`` from an unreliable source, one indicator only suspected: a firm
    it starts stays at a low level."""
    weak = copy.deepcopy(EXAMPLE_REPORT)
    weak["subject"] = {"names": [name], "country": "KZ"}
    weak["source"]["reliability"] = "E"
    weak["indicators"] = [dict(EXAMPLE_REPORT["indicators"][0], grade="suspected")]
    return weak


def found(client: Any, member: Any, q: str) -> list[dict[str, Any]]:
    """Every firm a search lists, page after page."""
    items: list[dict[str, Any]] = []
    params = {"q": q, "limit": "5"}
    while True:
        page = client.get("/v1/firms", params=params, headers=member.headers()).json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        params["cursor"] = page["next_cursor"]


@pytest.fixture
def trade_word(client, member, watchlist, monkeypatch):
    """A word that many firms' names end with, as "Travel" or "Work Abroad" do."""
    word = made_up_word()
    submit(client, member, watchlist, [f"{made_up_word()} {word}" for _ in range(SHARING_A_TRADE)])
    monkeypatch.setattr(search, "NAME_CANDIDATES", FEW_CANDIDATES)
    return word


def test_a_rare_word_finds_its_firm_among_many_sharing_a_trade_word(
    client, member, watchlist, trade_word
):
    rare = made_up_word()
    [firm] = submit(client, member, watchlist, [f"{rare} {trade_word}"])

    typed = found(client, member, f'TOO "{rare.upper()} {trade_word.lower()}"')
    in_other_script = found(client, member, f"ТОО «{in_cyrillic(rare)}»")

    assert typed[0]["firm_id"] == firm
    assert typed[0]["display_name"] == f"{rare} {trade_word}"
    assert typed[0]["match"] == 1.0
    assert [item["firm_id"] for item in in_other_script] == [firm]


def test_a_misspelt_rare_word_still_finds_its_firm(client, member, watchlist, trade_word):
    rare = made_up_word()
    [firm] = submit(client, member, watchlist, [f"{rare} {trade_word}"])
    misspelt = rare[:5] + ("o" if rare[5] == "a" else "a") + rare[6:]  # one vowel typed wrong

    typed = found(client, member, f"{in_cyrillic(misspelt)} {in_cyrillic(trade_word)}")

    assert misspelt.lower() != rare.lower()
    assert typed[0]["firm_id"] == firm, (rare, misspelt, typed)
    assert 0.3 <= typed[0]["match"] < 1.0


def test_a_query_of_only_a_common_word_lists_a_bounded_number_of_firms(
    client, member, watchlist, trade_word
):
    listed = found(client, member, trade_word)

    assert 0 < len(listed) <= FEW_CANDIDATES
    assert all(item["display_name"].endswith(f" {trade_word}") for item in listed)
    assert len({item["firm_id"] for item in listed}) == len(listed)


def test_a_name_typed_whole_finds_its_firm_however_common_its_words(
    client, member, watchlist, trade_word, monkeypatch
):
    [firm] = submit(client, member, watchlist, [f"LLP {trade_word}"])  # the trade word alone
    monkeypatch.setattr(search, "NAME_CANDIDATES", 2)  # fewer than the firms bearing it

    typed = found(client, member, f"«{in_cyrillic(trade_word)}»")

    assert typed[0]["firm_id"] == firm
    assert typed[0]["match"] == 1.0


def test_a_level_filter_finds_the_firms_of_that_level_beyond_the_riskiest(
    client, member, watchlist, trade_word
):
    weak = weak_report(f"{made_up_word()} {trade_word}")
    answer = client.post("/v1/reports", json=weak, headers=member.headers())
    assert answer.json()["projected"] is True
    firm = answer.json()["firm_id"]
    level = client.get(f"/v1/firms/{firm}", headers=member.headers()).json()["risk"]["level"]
    riskiest = found(client, member, trade_word)
    assert firm not in [item["firm_id"] for item in riskiest]  # below the riskiest few

    params = {"q": trade_word, "level": level}
    page = client.get("/v1/firms", params=params, headers=member.headers()).json()
    listed = [item["firm_id"] for item in page["items"]]

    assert firm in listed


def one_letter_off(word: str) -> str:
    return word[:-1] + ("a" if word[-1] != "a" else "e")


def test_another_organisations_private_name_changes_nothing_a_search_finds(
    client, member, other_member
):
    word = made_up_word()
    submit(client, member, None, [f"{word} Rekruting"], "partners")
    probe = one_letter_off(word)  # misspelt: found through the words like it
    before = found(client, member, probe)

    submit(
        client, other_member, None, [f"{probe} Secret"], "private"
    )  # the probe, now a known word

    assert found(client, member, probe) == before
    assert before  # the misspelt word found the shared firm


def test_the_public_check_is_blind_to_private_names(client, member, other_member, new_member):
    word = made_up_word()
    for reporter in (member, other_member):  # two organisations: the public may see it
        submit(client, reporter, None, [f"{word} Rekruting"], "partners")
    probe = one_letter_off(word)
    before = client.get("/v1/public/check", params={"q": probe}).json()

    submit(client, new_member("Third hotline"), None, [f"{probe} Hidden"], "private")

    assert client.get("/v1/public/check", params={"q": probe}).json() == before
    assert before["firms"]


@pytest.mark.parametrize("offset", ["-1", "99999999999999999999"])
def test_a_forged_search_cursor_is_refused_by_name(client, member, offset):
    cursor = base64.urlsafe_b64encode(offset.encode()).decode().rstrip("=")

    answer = client.get(
        "/v1/firms", params={"q": "Travel", "cursor": cursor}, headers=member.headers()
    )

    assert answer.status_code == 422
    assert "$.cursor" in answer.text


def test_a_number_is_looked_up_as_typed_never_by_likeness(client, member, watchlist):
    # A number one digit off is another number: a phone typed with a digit wrong must not
    # list a firm whose name holds a number like it.
    number = str(secrets.randbelow(900_000) + 100_000)
    other = number[:-1] + str((int(number[-1]) + 1) % 10)
    [firm] = submit(client, member, watchlist, [number])

    assert [item["firm_id"] for item in found(client, member, number)] == [firm]
    assert found(client, member, other) == []


def test_an_identifier_finds_its_firm_while_the_profile_shows_it(client, member, watchlist):
    # Two reports of one firm (the same BIN), each with its own phone. Retracting one
    # takes its phone off the profile, and off what a search finds the firm by.
    bin_ = str(secrets.randbelow(9 * 10**11) + 10**11)
    phones = [f"+7 701 {secrets.randbelow(9_000_000) + 1_000_000}" for _ in range(2)]
    reports = []
    for phone in phones:
        report = copy.deepcopy(EXAMPLE_REPORT)
        report["subject"] = {
            "names": [made_up_word()],
            "country": "KZ",
            "identifiers": [{"kind": "bin", "value": bin_}, {"kind": "phone", "value": phone}],
        }
        answer = client.post("/v1/reports", json=report, headers=member.headers())
        assert answer.status_code == 201, answer.text
        reports.append(answer.json())
    firm = reports[0]["firm_id"]
    before = [[i["firm_id"] for i in found(client, member, phone)] for phone in phones]

    retracted = client.post(
        f"/v1/reports/{reports[1]['id']}/retraction",
        json={"reason": "the caller named another agency"},
        headers=member.headers(),
    )
    after = [[i["firm_id"] for i in found(client, member, phone)] for phone in phones]
    by_bin = [i["firm_id"] for i in found(client, member, bin_)]

    assert reports[1]["firm_id"] == firm
    assert before == [[firm], [firm]]
    assert retracted.status_code == 200, retracted.text
    assert after == [[firm], []]
    assert by_bin == [firm]


def test_the_public_check_finds_a_firm_below_many_better_matches_reported_once(
    client, member, other_member, watchlist, monkeypatch
):
    # A caller types a word that many firms' names share: the firms only one organisation
    # reported match it better, and the firm two organisations reported comes after them
    # all, beyond the first page of the search.
    monkeypatch.setattr(queries, "PUBLIC_PAGE", 3)
    word = made_up_word()
    for _ in range(7):
        weak = weak_report(f"{word} {made_up_word()}")
        answer = client.post("/v1/reports", json=weak, headers=member.headers())
        assert answer.json()["projected"] is True
    for reporter in (member, other_member):
        [firm] = submit(client, reporter, watchlist, [f"{word} Rekruting Servis"])
    ranked = found(client, member, word)
    assert [item["firm_id"] for item in ranked].index(firm) >= 7  # below every one-off firm
    assert all(item["level"] != "critical" for item in ranked[:7])

    answer = client.get("/v1/public/check", params={"q": word})

    assert [f["display_name"] for f in answer.json()["firms"]] == [f"{word} Rekruting Servis"]
