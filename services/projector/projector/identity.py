"""Match keys: what an operator typed about a recruiter, folded so that one firm gets one key.

Two reports whose recruiters share any match key are the same firm, so a key must be equal
whenever two operators meant the same thing, and should differ otherwise: a missed link can be
merged by an investigator, a false one silently joins two firms.

Names are the hard part. One Kazakh firm reaches the hotlines as «Рай за границей», as
"Rai za granitsei" (ICAO, as in Kazakh passports), "Ray za granitsey" (BGN/PCGN) or "Raj za
granicej" (scientific). No single romanisation wins, so instead of guessing which system an
operator used we transliterate Cyrillic with one table and then fold every Latin string (typed
or transliterated alike) onto a coarser spelling where those systems coincide: y, j -> i;
kh -> h; ts -> c; x -> ks; ph -> f; BGN's ye -> e; runs of i -> i (ий and ый come out as ii,
iy or ij, and are often typed as a bare y); iu -> u (so Плюс == Plus). Kazakh-, Turkish- and
Uzbek-Latin letters map to what their Cyrillic twins give (ş -> sh, q -> k, ı -> i, w -> v).
Legal forms (ТОО, LLP, ...) are dropped because operators add or omit them at will. The folded
form is also what trigram search uses, so a name in English and the same name written in
Cyrillic land near each other.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
import tldextract

# Lower-case only: the text is case-folded first. Russian, Kazakh, plus the few Uzbek, Tajik and
# Ukrainian letters that Central Asian operators type. Output follows ICAO 9303; the folding
# below then merges it with the other systems.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia",
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
    "ў": "o", "ҳ": "h", "ҷ": "j", "ӣ": "i", "ӯ": "u", "є": "ie", "ї": "i", "ґ": "g",
}  # fmt: skip
# Latin letters whose diacritic carries a sound: stripping it would give s for ш. These must be
# mapped before the generic diacritic strip. Prime signs (ь, ъ in BGN/scientific) vanish.
_LATIN_SPECIAL = {
    "š": "sh", "ž": "zh", "č": "ch", "ŝ": "shch", "ë": "e", "è": "e", "ş": "sh", "ș": "sh",
    "ç": "ch", "ț": "ts", "ı": "i", "ə": "a", "ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe",
    "ʹ": "", "ʺ": "", "ʼ": "", "ʻ": "",
}  # fmt: skip
_TO_LATIN = str.maketrans(_CYRILLIC | _LATIN_SPECIAL)
_LETTER_FOLD = str.maketrans({"y": "i", "j": "i", "w": "v", "q": "k", "x": "ks"})
_DIGRAPH_FOLD = (("kh", "h"), ("ts", "c"), ("ph", "f"))

_COMBINING = re.compile(r"[\u0300-\u036f]+")
# Apostrophes inside a word are soft signs or Uzbek o'/g': drop them rather than split the word.
_INNER_APOSTROPHE = re.compile(r"(?<=\w)['’`](?=\w)")
_NON_WORD = re.compile(r"[\W_]+")
_RUNS_OF_I = re.compile(r"i{2,}")
# BGN writes е as "ye" at a word's start and after a vowel or soft/hard sign (Yerlan, Rayev,
# Novyye, Il'yenko), elsewhere as "e" like the other systems. Folding only those "ye" keeps
# ICAO's "novye" (ые) intact. It runs before the primes are dropped, as they are context.
_BGN_YE = re.compile(r"(?<![b-df-hj-np-tv-xz])ye")
# АҚ (Kazakh JSC) folds to "ak", which is also the everyday Kazakh word "white" (Ак Жол, Ак Нур):
# drop it only where it can only be the legal form, written with Қ before a quoted name.
_KAZAKH_JSC = re.compile(r"^\s*АҚ\s*(?=[«\"“„'])")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    text = _BGN_YE.sub("e", text).translate(_TO_LATIN)
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    text = _NON_WORD.sub(" ", _INNER_APOSTROPHE.sub("", text))
    text = text.translate(_LETTER_FOLD)
    for variant, folded in _DIGRAPH_FOLD:
        text = text.replace(variant, folded)
    return _RUNS_OF_I.sub("i", text).replace("iu", "u")


# Folded with the same function, so Cyrillic and Latin spellings of a form (ЖШС, ZhShS) both go.
_LEGAL_FORMS = frozenset(
    _fold(form)
    for form in (
        "ТОО", "ЖШС", "ИП", "ЖК", "ООО", "ОсОО", "ЗАО", "ОАО", "ПАО", "АО", "ТОВ", "ЧП", "МЧЖ",
        "TOO", "LLP", "IP", "LLC", "LP", "Ltd", "Limited", "JSC", "PJSC", "CJSC", "OJSC", "Inc",
        "Incorporated", "Corp", "Corporation", "Co", "GmbH", "PLC", "MChJ", "Şti",
    )
)  # fmt: skip


# Keys are pure functions of what was typed, and hotline records repeat themselves: the same
# phone, written the same way, comes back report after report. Parsing a phone number costs
# more than anything else a replay does per report, so each distinct string is folded once:
# its answer is remembered, up to this many (then all are forgotten and remembered anew).
# A replay finds its keys in a second process and hands the answers over (``learn``).
_KEY_CACHE = 1 << 20
_FOLDED_NAMES: dict[str, str] = {}
_IDENTIFIER_KEYS: dict[tuple[str, str, str], str | None] = {}


def _remember(memo: dict[Any, Any], argument: Any, answer: Any) -> None:
    if len(memo) >= _KEY_CACHE:
        memo.clear()
    memo[argument] = answer


def normalise_name(name: str) -> str:
    """The folded Latin form of a firm's name, without legal forms, e.g. "rai za granicei"."""
    folded = _FOLDED_NAMES.get(name)
    if folded is None:
        folded = _normalise_name(name)
        _remember(_FOLDED_NAMES, name, folded)
    return folded


def _normalise_name(name: str) -> str:
    tokens = _fold(_KAZAKH_JSC.sub(" ", name)).split()
    # Legal forms stand before or after the name; a middle word that happens to fold like one
    # ("Co", "IP") is part of the name.
    start, end = 0, len(tokens)
    while start < end and tokens[start] in _LEGAL_FORMS:
        start += 1
    while end > start and tokens[end - 1] in _LEGAL_FORMS:
        end -= 1
    return " ".join(tokens[start:end])


NAME = "name"  # the kind of a name among the things typed (see ``match_key``)


def name_key(name: str, country: str) -> str | None:
    """Key for an exact (folded) name match within one country; None if only a legal form."""
    folded = normalise_name(name)
    return f"{NAME}:{country.strip().upper()}:{folded}" if folded else None


def match_key(kind: str, value: str, country: str) -> str | None:
    """The key of one thing typed about a recruiter: a name (``kind`` ``NAME``), or an
    identifier of ``kind`` (see ``identifier_key``); None if it has none."""
    if kind == NAME:
        return name_key(value, country)
    return identifier_key(kind, value, country)


def learn(found: Iterable[tuple[tuple[str, str, str], str | None]]) -> None:
    """Remember ``match_key``'s answers, found by another process: pairs of its arguments
    (kind, value, country) and the key it gave for them."""
    for (kind, value, country), key in found:
        if kind == NAME:
            # name_key's form: the folded name follows the kind and the country.
            _FOLDED_NAMES[value] = key.split(":", 2)[2] if key else ""
        else:
            _IDENTIFIER_KEYS[kind, value, country] = key


_NON_DIGIT = re.compile(r"\D+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
# Bundled public-suffix snapshot only: no download, no disk cache. Private suffixes count, so
# rai.wixsite.com and olympus.wixsite.com stay two sites instead of both becoming wixsite.com.
_DOMAINS = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)
# Platforms where the firm is a page, not the domain: keying on instagram.com would link every
# firm that lists its Instagram page as a website, so these keep the host and path.
_SHARED_HOSTS = frozenset((
    "facebook.com", "instagram.com", "vk.com", "ok.ru", "t.me", "telegram.me", "tiktok.com",
    "youtube.com", "x.com", "twitter.com", "linkedin.com", "google.com", "wa.me", "whatsapp.com",
    "linktr.ee", "taplink.cc", "tilda.ws", "olx.kz", "hh.kz", "hh.ru", "enbek.kz",
))  # fmt: skip


_INTERNATIONAL_00 = re.compile(r"^\s*00\s*(?=[1-9])")


# A number typed with ASCII digits and spaces, brackets, dots or dashes alone, a "+"
# leading: phonenumbers reads no more in it than its digits and the "+" (the punctuation is
# what it skips; its one limit on length, 250 characters, is beyond the pattern's).
_PLAIN_PHONE = re.compile(r"\+?[0-9 ().-]{0,200}")
_PHONES: dict[tuple[str, str], str | None] = {}


def _phone(value: str, region: str) -> str | None:
    # "00" then a country code is the ITU's international prefix, typed everywhere even where
    # the local one differs (Kazakhstan's is 8~10): read it as "+". No national number
    # starts with 00.
    value = _INTERNATIONAL_00.sub("+", value)
    if not _PLAIN_PHONE.fullmatch(value):
        return _parsed_phone(value, region)
    # One number typed with other spacing or brackets ("+7 (701) 555-12-34", "+77015551234")
    # is parsed once.
    plain = ("+" if value.startswith("+") else "") + _NON_DIGIT.sub("", value)
    try:
        return _PHONES[plain, region]
    except KeyError:
        key = _parsed_phone(plain, region)
        _remember(_PHONES, (plain, region), key)
        return key


def _parsed_phone(value: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # Unparseable in this region: the bare digits still let identical strings meet.
    digits = _NON_DIGIT.sub("", value)
    return f"digits:{digits}" if digits else None


def _split_url(value: str) -> tuple[str, str, str]:
    """Host, path and query of a URL or bare host ("www.X.kz/jobs"); empty parts if malformed."""
    value = value.strip().lower()
    try:
        parts = urlsplit(value if _SCHEME.match(value) else f"//{value}")
    except ValueError:
        return "", "", ""
    return (parts.hostname or "").strip("."), parts.path, parts.query


def _website(value: str) -> str | None:
    host, path, query = _split_url(value)
    if not host:
        return None
    domain = _DOMAINS(host).top_domain_under_public_suffix
    if domain in _SHARED_HOSTS:
        page = path.rstrip("/")
        if page.endswith(".php") and query:  # facebook.com/profile.php?id=...: the id is the page
            page = f"{page}?{query}"
        bare = host.removeprefix("www.").removeprefix("m.")
        return bare + page
    return domain or host


def _social(value: str) -> str | None:
    handle = value.strip().lower()
    if "/" in handle:
        handle = next((part for part in reversed(_split_url(handle)[1].split("/")) if part), "")
    handle = "".join(handle.lstrip("@").split())
    return handle or None


def identifier_key(kind: str, value: str, country: str) -> str | None:
    """Key for a phone, bin, licence, website, email or social handle; None if nothing is left."""
    try:
        return _IDENTIFIER_KEYS[kind, value, country]
    except KeyError:
        key = _identifier_key(kind, value, country)
        _remember(_IDENTIFIER_KEYS, (kind, value, country), key)
        return key


def _identifier_key(kind: str, value: str, country: str) -> str | None:
    value = value.strip()
    if kind == "phone":
        key = _phone(value, country.strip().upper()) if value else None
    elif kind == "bin":
        key = _NON_DIGIT.sub("", value) or None
    elif kind == "licence":
        key = "".join(char for char in value.upper() if char.isalnum()) or None
    elif kind == "website":
        key = _website(value)
    elif kind == "email":
        key = value.lower().removeprefix("mailto:") or None
    elif kind == "social":
        key = _social(value)
    else:
        raise ValueError(f"unknown identifier kind: {kind!r}")
    return f"{kind}:{key}" if key else None


_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{5,}$")
_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HANDLE_LIKE = re.compile(r"^@?[\w.]{2,}$")


def search_keys(query: str, country_hint: str | None = None) -> list[str]:
    """Every identifier key a search-box query could mean, for an exact key lookup.

    Names are not covered: they are searched through the words of normalise_name().
    """
    query = query.strip()
    keys: list[str | None] = []
    if _PHONE_LIKE.match(query):
        digits = _NON_DIGIT.sub("", query)
        regions = dict.fromkeys(r.strip().upper() for r in ("KZ", country_hint or ""))
        keys += [identifier_key("phone", query, region) for region in regions if region]
        keys += [f"phone:digits:{digits}"]
        if len(digits) == 12 and not query.startswith("+"):
            keys.append(f"bin:{digits}")
    if any(char.isdigit() for char in query):
        keys.append(identifier_key("licence", query, ""))
    if _EMAIL_LIKE.match(query):
        keys.append(identifier_key("email", query, ""))
    elif not any(char.isspace() for char in query) and "." in query.strip("."):
        is_url = bool(_SCHEME.match(query.lower())) or query.lower().startswith("www.")
        if is_url or _DOMAINS(query.split("/")[0]).suffix:
            website = identifier_key("website", query, "")
            keys.append(website)
            if website and "/" in website:  # a page on a platform: its handle too
                keys.append(identifier_key("social", query, ""))
    if _HANDLE_LIKE.match(query) and not query.replace(".", "").isdigit():
        keys.append(identifier_key("social", query, ""))
    return [key for key in dict.fromkeys(keys) if key]
