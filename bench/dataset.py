"""A deterministic synthetic dataset: what years of hotline records look like.

The same seed gives the same rows, byte for byte. Firms have a Latin and a
Cyrillic name, and each report writes them the way a hotline operator might:
with or without the legal form, in either script, in another case, in other
quotes; phones come in every format Kazakh, Kyrgyz and Uzbek callers use. A few
firms collect many reports (a Zipf-like spread), most have one or two. Some
reports are private, some carry a confidential part, and the operations that
follow them amend or retract some.

    python bench/dataset.py --reports 1000 --out reports.ndjson
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"

SYLLABLES = [
    ("ka", "ка"), ("ra", "ра"), ("sa", "са"), ("ma", "ма"), ("ta", "та"), ("na", "на"),
    ("ly", "лы"), ("nur", "нур"), ("al", "ал"), ("tyn", "тын"), ("be", "бе"), ("re", "ре"),
    ("ke", "ке"), ("zhol", "жол"), ("ak", "ак"), ("su", "су"), ("tau", "тау"), ("dar", "дар"),
    ("gul", "гул"), ("bek", "бек"), ("or", "ор"), ("da", "да"), ("mir", "мир"), ("as", "ас"),
    ("ti", "ти"), ("lan", "лан"), ("sha", "ша"), ("ber", "бер"), ("kon", "кон"), ("yr", "ыр"),
]  # fmt: skip
TRADES = [
    ("Travel", "Тревел"), ("Job", "Джоб"), ("Work Abroad", "Работа за рубежом"),
    ("Personnel", "Персонал"), ("Consulting", "Консалтинг"), ("Recruitment", "Рекрутмент"),
    ("Service", "Сервис"), ("Staff", "Стафф"), ("Career", "Карьера"), ("Tour", "Тур"),
]  # fmt: skip
COUNTRIES = {  # country: (dialling code, national number length, legal forms Latin/Cyrillic)
    "KZ": ("7", 10, [("LLP", "ТОО"), ("TOO", "ТОО"), ("IP", "ИП")]),
    "KG": ("996", 9, [("LLC", "ОсОО"), ("OsOO", "ОсОО")]),
    "UZ": ("998", 9, [("LLC", "ООО"), ("MChJ", "МЧЖ")]),
}
DESTINATIONS = ["CY", "AE", "TR", "KR", "PL", "DE", "IL", "TH", "RU", "CZ"]
JOBS = ["waitress", "nanny", "dancer", "builder", "farm worker", "hotel maid", "model", "driver"]
CHANNELS = ["hotline_call", "walk_in", "online_ad", "social_media", "media", "referral"]
GRADES = ["confirmed", "reported", "suspected"]


@dataclass(frozen=True)
class Firm:
    latin: str
    cyrillic: str
    country: str
    form: tuple[str, str]
    phones: tuple[str, ...]
    bin: str
    website: str


@dataclass(frozen=True)
class Operation:
    """One thing an organisation does: submit a body, or amend or retract an earlier one."""

    kind: str  # "submit", "amend" or "retract"
    organisation: int
    body: dict[str, Any] | None = None
    target: int | None = None  # index of the submission amended or retracted
    reason: str = ""


def indicator_codes() -> list[str]:
    document = json.loads((SCHEMAS / "indicators.json").read_text())
    return [item["code"] for item in document["indicators"]]


class Dataset:
    def __init__(self, seed: int = 2026, *, organisations: int = 12, firms: int = 1000) -> None:
        self.random = random.Random(seed)  # noqa: S311 - reproducible, not secret
        self.organisations = organisations
        self.codes = indicator_codes()
        self.firms = [self._firm(i) for i in range(firms)]
        # Zipf-Mandelbrot weights, 1/(k+q)^0.8 for firm k: a head of notorious recruiters with
        # a hundred or more reports each (q grows with the number of firms, so that the head
        # stays that size rather than one firm taking a fiftieth of everything), and a long
        # tail of firms reported once or twice.
        q = 1 + firms / 600
        self.cum_weights = list(itertools.accumulate(1 / (k + q) ** 0.8 for k in range(firms)))

    def _firm(self, index: int) -> Firm:
        rnd = self.random
        parts = [SYLLABLES[rnd.randrange(len(SYLLABLES))] for _ in range(rnd.randint(2, 3))]
        # The index, spelt in syllables too, keeps every firm's name its own.
        n = index
        while True:
            parts.append(SYLLABLES[n % len(SYLLABLES)])
            n //= len(SYLLABLES)
            if n == 0:
                break
        word_latin = "".join(p[0] for p in parts).capitalize()
        word_cyrillic = "".join(p[1] for p in parts).capitalize()
        trade = TRADES[rnd.randrange(len(TRADES))]
        country = rnd.choice(["KZ", "KZ", "KZ", "KG", "UZ"])
        _, length, forms = COUNTRIES[country]
        phones = tuple(_national(rnd, country, length) for _ in range(rnd.randint(1, 2)))
        return Firm(
            latin=f"{word_latin} {trade[0]}",
            cyrillic=f"{word_cyrillic} {trade[1]}",
            country=country,
            form=forms[rnd.randrange(len(forms))],
            phones=phones,
            bin=f"{rnd.randrange(10**12):012d}",
            website=f"{word_latin.lower()}-{trade[0].split()[0].lower()}.{country.lower()}",
        )

    def name(self, firm: Firm) -> str:
        """The firm's name as one operator typed it."""
        rnd = self.random
        cyrillic = rnd.random() < 0.5
        base = firm.cyrillic if cyrillic else firm.latin
        form = firm.form[1] if cyrillic else firm.form[0]
        style = rnd.randrange(6)
        if style == 0:
            return base
        if style == 1:
            return f"{form} «{base}»" if cyrillic else f'{form} "{base}"'
        if style == 2:
            return f"{base} {form}"
        if style == 3:
            return base.upper()
        if style == 4:
            return base.lower()
        return f"  {form}  {base} "

    def phone(self, firm: Firm) -> str:
        """One of the firm's phones, typed one of the ways people type it."""
        national = self.random.choice(firm.phones)
        code = COUNTRIES[firm.country][0]
        style = self.random.randrange(5)
        if style == 0:
            return f"+{code}{national}"
        if style == 1:
            return f"+{code} ({national[:3]}) {national[3:6]}-{national[6:]}"
        if style == 2 and firm.country == "KZ":
            return f"8 {national[:4]} {national[4:]}"  # the old trunk prefix, still common
        if style == 3:
            return f"00{code} {national[:3]} {national[3:]}"
        return f"{code} {national[:3]} {national[3:6]} {national[6:]}"

    def report(self) -> dict[str, Any]:
        rnd = self.random
        firm = rnd.choices(self.firms, cum_weights=self.cum_weights)[0]
        identifiers: list[dict[str, str]] = [{"kind": "phone", "value": self.phone(firm)}]
        if rnd.random() < 0.4:
            identifiers.append({"kind": "bin", "value": firm.bin})
        body: dict[str, Any] = {
            "subject": {
                "names": [self.name(firm)] + ([self.name(firm)] if rnd.random() < 0.3 else []),
                "country": firm.country,
                "identifiers": identifiers,
            },
            "source": {
                "reliability": rnd.choice("ABBCCCDEF"),
                "credibility": rnd.randint(1, 6),
            },
            "sharing": "private" if rnd.random() < 0.1 else "partners",
            "incident": {
                "date": (date(2026, 10, 1) - timedelta(days=rnd.randrange(5 * 365))).isoformat(),
                "destination_country": rnd.choice(DESTINATIONS),
                "job_offered": rnd.choice(JOBS),
                "channel": rnd.choice(CHANNELS),
            },
            "indicators": [
                {"code": code, "grade": rnd.choice(GRADES)}
                for code in rnd.sample(self.codes, rnd.randint(1, 5))
            ],
            "narrative": f"Offered {rnd.choice(JOBS)} work abroad; asked for a fee up front.",
        }
        if rnd.random() < 0.3:
            body["subject"]["websites"] = [firm.website]
        if rnd.random() < 0.3:
            body["confidential"] = {
                "caller_name": f"Caller {rnd.randrange(10**6)}",
                "caller_phone": f"+7 701 {rnd.randrange(10**7):07d}",
            }
        return body

    def operations(self, reports: int) -> Iterator[Operation]:
        """``reports`` submissions, with about 5% amendments and 2% retractions among them."""
        submitted: list[int] = []  # organisation of each submission so far
        for index in range(reports):
            organisation = self.random.randrange(self.organisations)
            yield Operation("submit", organisation, self.report())
            submitted.append(organisation)
            roll = self.random.random()
            if roll < 0.07 and index > 10:
                target = self.random.randrange(len(submitted) - 10)
                if roll < 0.05:
                    yield Operation(
                        "amend", submitted[target], self.report(), target, "details corrected"
                    )
                else:
                    yield Operation("retract", submitted[target], None, target, "caller withdrew")


def corrupt(body: dict[str, Any], rnd: random.Random) -> tuple[dict[str, Any], str]:
    """A body with one mistake a spreadsheet might hold, and the field it touches."""
    bad = json.loads(json.dumps(body))
    choice = rnd.randrange(4)
    if choice == 0:
        bad["subject"]["country"] = "XX"
        return bad, "$.subject.country"
    if choice == 1:
        bad["indicators"] = [{"code": "no_such_indicator", "grade": "reported"}]
        return bad, "$.indicators[0].code"
    if choice == 2:
        bad["source"]["credibility"] = 9
        return bad, "$.source.credibility"
    bad["subject"]["names"] = []
    return bad, "$.subject.names"


def write_ndjson(path: Path, bodies: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for body in bodies:
            out.write(json.dumps(body, ensure_ascii=False) + "\n")


CSV_HEADER = [
    "names", "country", "phones", "bins", "websites", "incident_date", "destination_country",
    "job_offered", "channel", "indicators", "reliability", "credibility", "sharing", "narrative",
    "caller_name", "caller_phone",
]  # fmt: skip


def csv_row(body: dict[str, Any]) -> list[str]:
    """The body as a row under CSV_HEADER (docs/import.md's mapping)."""
    subject, incident = body["subject"], body.get("incident", {})
    by_kind: dict[str, list[str]] = {}
    for identifier in subject.get("identifiers", []):
        by_kind.setdefault(identifier["kind"], []).append(identifier["value"])
    confidential = body.get("confidential", {})
    return [
        ";".join(subject["names"]),
        subject["country"],
        ";".join(by_kind.get("phone", [])),
        ";".join(by_kind.get("bin", [])),
        ";".join(subject.get("websites", [])),
        incident.get("date", ""),
        incident.get("destination_country", ""),
        incident.get("job_offered", ""),
        incident.get("channel", ""),
        ";".join(f"{i['code']}:{i['grade']}" for i in body.get("indicators", [])),
        body["source"]["reliability"],
        str(body["source"]["credibility"]),
        body["sharing"],
        body.get("narrative", ""),
        confidential.get("caller_name", ""),
        confidential.get("caller_phone", ""),
    ]


def write_csv(path: Path, bodies: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for body in bodies:
            writer.writerow(csv_row(body))


def _national(rnd: random.Random, country: str, length: int) -> str:
    if country == "KZ":  # mobile ranges 70x/77x and Shymkent's landlines 7252
        prefix = rnd.choice(["701", "702", "705", "707", "747", "771", "775", "777", "7252"])
    elif country == "KG":
        prefix = rnd.choice(["550", "555", "700", "770", "312"])
    else:
        prefix = rnd.choice(["90", "91", "93", "94", "97", "71"])
    return prefix + "".join(str(rnd.randrange(10)) for _ in range(length - len(prefix)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, required=True, help=".ndjson or .csv")
    args = parser.parse_args()
    data = Dataset(args.seed, firms=max(10, args.reports // 3))
    bodies = [data.report() for _ in range(args.reports)]
    (write_csv if args.out.suffix == ".csv" else write_ndjson)(args.out, bodies)


if __name__ == "__main__":
    main()
