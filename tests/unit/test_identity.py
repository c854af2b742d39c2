"""Match keys: the shared fixture of how hotline staff write the same recruiter must hold."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest

from projector.identity import identifier_key, name_key, normalise_name, search_keys

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "identity_cases.tsv"


class Case(NamedTuple):
    kind: str
    a: str
    country_a: str
    b: str
    country_b: str
    expected: str
    why: str


def _load_cases() -> list[Case]:
    if not FIXTURE.is_file():
        return []
    lines = [
        line.rstrip("\n")
        for line in FIXTURE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    header, *rows = (line.split("\t") for line in lines)
    assert header == list(Case._fields), f"unexpected columns in {FIXTURE}: {header}"
    return [Case(*row) for row in rows]


CASES = _load_cases()
PARAMS = [pytest.param(case, id=case.why) for case in CASES] or [
    pytest.param(None, marks=pytest.mark.skip(reason=f"shared fixture not found: {FIXTURE}"))
]
# Minimum trigram similarity per "suggest" row (by column a); other rows need only some overlap.
SUGGEST_AT_LEAST = {"Golden Bridge": 0.3}


def _key(kind: str, value: str, country: str) -> str | None:
    if kind == "name":
        return name_key(value, country)
    return identifier_key(kind, value, country)


def trigram_similarity(a: str, b: str) -> float:
    """Like PostgreSQL pg_trgm's similarity(): padded words, set of 3-grams, Jaccard."""

    def trigrams(text: str) -> set[str]:
        grams: set[str] = set()
        for word in re.findall(r"\w+", text.lower()):
            padded = f"  {word} "
            grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
        return grams

    left, right = trigrams(a), trigrams(b)
    return len(left & right) / len(left | right) if left | right else 0.0


@pytest.mark.parametrize("case", PARAMS)
def test_fixture_case(case: Case) -> None:
    key_a = _key(case.kind, case.a, case.country_a)
    key_b = _key(case.kind, case.b, case.country_b)

    if case.expected == "same":
        assert key_a is not None
        assert key_a == key_b
    elif case.expected == "different":
        assert key_a != key_b
    elif case.expected == "suggest":
        assert case.kind == "name"
        assert key_a is not None
        assert key_b is not None
        assert key_a != key_b
        similarity = trigram_similarity(normalise_name(case.a), normalise_name(case.b))
        threshold = SUGGEST_AT_LEAST.get(case.a)
        if threshold is None:
            assert similarity > 0
        else:
            assert similarity >= threshold
    else:
        pytest.fail(f"unknown expectation {case.expected!r}")


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Новые горизонты", "Novyye Gorizonty"),
        ("Новые горизонты", "Novye Gorizonty"),
        ("Ерлан", "Yerlan"),
        ("Ильенко", "Il'yenko"),
        ("Дмитрий", "Dmitry"),
        ("Шахин Туризм", "Şahin Turizm Ltd. Şti."),
        ("Ўзбекистон", "Oʻzbekiston"),
    ],
)
def test_transliteration_variants_converge(cyrillic: str, latin: str) -> None:
    assert name_key(cyrillic, "KZ") == name_key(latin, "KZ")


def test_search_finds_a_kazakh_phone_written_with_trunk_prefix_and_brackets() -> None:
    assert "phone:+77252300152" in search_keys("8 (7252) 30 01 52")


def test_search_finds_an_international_turkish_phone() -> None:
    assert "phone:+902125550123" in search_keys("+90 212 555 01 23")


def test_search_tries_the_hint_region_for_a_national_number() -> None:
    assert "phone:+902125550123" in search_keys("0212 555 01 23", country_hint="TR")


def test_search_offers_a_bin_for_twelve_digits() -> None:
    assert "bin:123456789012" in search_keys("1234 5678 9012")


def test_a_host_without_registrable_domain_keeps_its_host() -> None:
    assert identifier_key("website", "localhost", "KZ") == "website:localhost"


def test_a_name_that_is_only_a_legal_form_has_no_key() -> None:
    assert name_key("ТОО", "KZ") is None
    assert name_key("ЖШС", "KZ") is None


def test_an_empty_phone_has_no_key() -> None:
    assert identifier_key("phone", "", "KZ") is None


def test_an_unparseable_phone_falls_back_to_its_digits() -> None:
    assert identifier_key("phone", "12", "KZ") == "phone:digits:12"


def test_pages_on_shared_platforms_are_not_one_website() -> None:
    first = identifier_key("website", "https://instagram.com/RaiAbroad/", "KZ")
    second = identifier_key("website", "instagram.com/OlympusTravel", "KZ")
    assert first != second


def test_social_url_gives_its_handle() -> None:
    assert identifier_key("social", "https://instagram.com/RaiAbroad/", "KZ") == "social:raiabroad"


def test_ak_in_a_name_survives_but_the_kazakh_jsc_form_goes() -> None:
    assert normalise_name("ТОО «Ак Нур»") == "ak nur"
    assert normalise_name("АҚ «Самрук»") == normalise_name("Samruk JSC")


def test_unknown_identifier_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown identifier kind"):
        identifier_key("fax", "123", "KZ")


def test_a_phone_dialled_with_00_meets_the_same_phone_written_with_plus() -> None:
    assert identifier_key("phone", "007 725 2300152", "KZ") == "phone:+77252300152"
    assert identifier_key("phone", "00996 312 280 258", "KZ") == identifier_key(
        "phone", "+996 312 280 258", "KG"
    )


def test_a_number_parsed_once_for_its_digits_keys_every_typing_as_its_own_parse_would() -> None:
    """Numbers typed with digits, spaces, brackets, dots and dashes share one parse; each
    typing still gets the key that parsing its own text gives (phonenumbers on the whole
    text, no memo), in whatever order they come."""
    import random

    from projector import identity

    rng = random.Random(7)
    numbers = ["77015551234", "87015551234", "7015551234", "996555123456", "0555123456"]
    numbers += ["5551234", "12", "998901234567", "9", "1" * 20, "70155512345678"]
    typings = []
    for digits in numbers:
        for _ in range(30):
            text = "".join(d + rng.choice(["", "", " ", "-", ".", ") ", " ("]) for d in digits)
            typings.append(rng.choice(["", "+", "00", "(", "+ "]) + text)
    typings += ["8\t701 555 12 34", "+7 701 555 12 34 ext. 5", "٨٧٠١٥٥٥١٢٣٤", "8 701 555 12 34#"]
    rng.shuffle(typings)
    identity._PHONES.clear()
    for region in ["KZ", "KG", "UZ", "ZZ"]:
        for typed in typings:
            whole = identity._INTERNATIONAL_00.sub("+", typed)
            assert identity._phone(typed, region) == identity._parsed_phone(whole, region), typed
    assert len(identity._PHONES) < len(set(typings)) * 4  # typings did share a parse
