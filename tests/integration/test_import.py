"""`watchlist import`: years of hotline records in one go, every bad row accounted for."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import example_report
from watchlist.decoding import decode_strict
from watchlist.domain.contract import ReportBody
from watchlist.domain.errors import NotPermitted
from watchlist.importing import ImportRefused, ImportStopped, import_file


def reports_of(database: Any, organisation_id: Any) -> int:
    with psycopg.connect(database.url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM watchlist_reports WHERE organisation_id = %s", (organisation_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def run_import(watchlist: Any, member: Any, path: Path, **options: Any) -> tuple[Any, list[Any]]:
    principal = watchlist.importing_principal(member.organisation_id, None)
    rejects = io.BytesIO()
    summary = import_file(watchlist, principal, path, rejects, batch_size=300, **options)
    return summary, [json.loads(line) for line in rejects.getvalue().splitlines()]


BAD_ROWS = {  # line number: (the row, the field its reason must name)
    7: ('{"subject": ', "$"),
    120: (None, "$.subject.country"),
    250: ("3'", "$"),  # a number, then a stray quote: not JSON, though it starts as JSON
    333: (None, "$.indicators[0].code"),
    500: (None, "$.source.credibility"),
    734: (None, "$.subject.names"),
    999: ('{"subject": {"names": ["X"], "country": "KZ"}, "colour": "red"}', "$.colour"),
}


def bad_body(field: str) -> dict[str, Any]:
    body = example_report()
    if field == "$.subject.country":
        body["subject"]["country"] = "XX"
    elif field == "$.indicators[0].code":
        body["indicators"] = [{"code": "no_such_indicator", "grade": "reported"}]
    elif field == "$.source.credibility":
        body["source"]["credibility"] = 9
    else:
        body["subject"]["names"] = []
    return body


@pytest.fixture
def hotline_file(tmp_path: Path) -> Path:
    """1,000 lines: 992 good reports, one blank line, and the bad rows above."""
    lines = []
    for number in range(1, 1001):
        if number in BAD_ROWS:
            text, field = BAD_ROWS[number]
            lines.append(text if text is not None else json.dumps(bad_body(field)))
        elif number == 50:
            lines.append("")
        else:
            lines.append(json.dumps(example_report(), ensure_ascii=False))
    path = tmp_path / "hotline-2019-2025.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_rows_go_to_the_reject_file_and_the_rest_are_recorded_once(
    watchlist, member, database, hotline_file
):
    summary, rejects = run_import(watchlist, member, hotline_file)

    assert (summary.rows, summary.imported, summary.rejected, summary.skipped) == (999, 992, 7, 0)
    assert [r["line"] for r in rejects] == sorted(BAD_ROWS)
    for reject in rejects:
        field = BAD_ROWS[reject["line"]][1]
        assert any(e["path"].startswith(field) for e in reject["errors"]), reject
        assert f"{field}" in reject["reason"]
    assert "not JSON" in rejects[0]["reason"]
    assert rejects[1]["reason"] == "$.subject.country: 'XX' is not an ISO 3166-1 code"
    assert rejects[1]["row"] == hotline_file.read_text().splitlines()[119]
    assert "not JSON" in rejects[2]["reason"]
    assert reports_of(database, member.organisation_id) == 992

    again, rejects_again = run_import(watchlist, member, hotline_file)

    assert (again.imported, again.rejected, again.skipped) == (0, 7, 992)
    assert len(rejects_again) == 7
    assert reports_of(database, member.organisation_id) == 992


def test_a_file_grown_at_the_end_records_only_its_new_rows(watchlist, member, database, tmp_path):
    path = tmp_path / "calls.ndjson"
    first = [json.dumps(example_report()) for _ in range(40)]
    path.write_text("\n".join(first) + "\n")
    run_import(watchlist, member, path)
    path.write_text("\n".join([*first, *(json.dumps(example_report()) for _ in range(5))]))

    summary, _ = run_import(watchlist, member, path)

    assert (summary.imported, summary.skipped) == (5, 40)
    assert reports_of(database, member.organisation_id) == 45


def test_identical_rows_are_two_reports_and_stay_two(watchlist, member, database, tmp_path):
    """Two calls about the same recruiter can read the same: each row is one report."""
    row = json.dumps(example_report())
    path = tmp_path / "twice.ndjson"
    path.write_text(f"{row}\n{row}\n")

    first, _ = run_import(watchlist, member, path)
    second, _ = run_import(watchlist, member, path)

    assert (first.imported, second.imported, second.skipped) == (2, 0, 2)
    assert reports_of(database, member.organisation_id) == 2


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


CSV_HEADER = [
    "names", "country", "phones", "bins", "indicators", "reliability", "credibility",
    "sharing", "incident_date", "destination_country", "narrative", "caller_name",
]  # fmt: skip


def test_csv_columns_map_to_the_report_body(watchlist, member, tmp_path):
    path = write_csv(
        tmp_path / "spreadsheet.csv",
        CSV_HEADER,
        [
            [
                "ТОО «Рай за границей»; Rai Za Granitsei LLP",
                "kz",
                "+7 (7252) 30-01-52; 8 701 555 1234",
                "123456789012",
                "fees_charged_to_worker:confirmed; job_differs_from_promised",
                "B",
                "2",
                "partners",
                "2026-09-14",
                "CY",
                "Offered waitress work in Cyprus; passport kept.",
                "A caller",
            ],
            ["Nur Travel", "XX", "", "", "deception", "B", "two", "partners", "", "", "", ""],
        ],
    )
    principal = watchlist.importing_principal(member.organisation_id, None)
    rejects = io.BytesIO()

    summary = import_file(watchlist, principal, path, rejects)

    assert (summary.imported, summary.rejected) == (1, 1), rejects.getvalue()
    (reject,) = [json.loads(line) for line in rejects.getvalue().splitlines()]
    assert reject["line"] == 3
    assert {(e["path"], e["message"]) for e in reject["errors"]} == {
        ("credibility", "'two' is not of type 'integer'"),
    }
    listed = watchlist.list_reports(principal, mine=True, cursor=None, limit=1)
    record = watchlist.get_report(principal, listed.items[0].id)
    report = record.report
    assert report.subject.names == ["ТОО «Рай за границей»", "Rai Za Granitsei LLP"]
    assert report.subject.country == "KZ"
    assert [(i.kind, i.value) for i in report.subject.identifiers] == [
        ("phone", "+7 (7252) 30-01-52"),
        ("phone", "8 701 555 1234"),
        ("bin", "123456789012"),
    ]
    assert [(i.code, i.grade) for i in report.indicators] == [
        ("fees_charged_to_worker", "confirmed"),
        ("job_differs_from_promised", "reported"),
    ]
    assert report.narrative == "Offered waitress work in Cyprus; passport kept."
    assert report.incident.date.isoformat() == "2026-09-14"
    assert record.confidential == "visible"
    assert report.confidential is not None
    assert report.confidential.caller_name == "A caller"


def test_a_csv_reject_names_the_column_the_operator_typed(watchlist, member, tmp_path):
    row = ["Nur Travel", "XX", "", "", "deception", "B", "3", "partners", "", "", "", ""]
    path = write_csv(tmp_path / "one.csv", CSV_HEADER, [row])

    summary, rejects = run_import(watchlist, member, path)

    assert summary.rejected == 1
    assert rejects[0]["reason"] == (
        "country: 'XX' is not an ISO 3166-1 code; indicators: unknown indicator code 'deception'"
    )
    assert rejects[0]["row"] == "Nur Travel,XX,,,deception,B,3,partners,,,,"


def test_a_row_the_csv_reader_cannot_read_is_rejected_and_the_rest_imported(
    watchlist, member, tmp_path
):
    good = ["Nur Travel", "KZ", "", "", "fees_charged_to_worker", "B", "3", "partners"]
    huge = [*good[:10], "x" * (csv.field_size_limit() + 1), ""]
    path = write_csv(
        tmp_path / "big.csv", CSV_HEADER, [[*good, "", "", "", ""], huge, [*good, "", "", "", ""]]
    )

    summary, rejects = run_import(watchlist, member, path)

    assert (summary.imported, summary.rejected) == (2, 1)
    assert rejects[0]["line"] == 3
    assert rejects[0]["reason"].startswith("$: not readable as CSV: field larger than field limit")


def test_an_unknown_csv_column_refuses_the_whole_file(watchlist, member, database, tmp_path):
    path = write_csv(tmp_path / "odd.csv", [*CSV_HEADER, "mood"], [[""] * 13])

    with pytest.raises(ImportRefused, match="unknown column"):
        run_import(watchlist, member, path)
    assert reports_of(database, member.organisation_id) == 0


def test_an_organisation_without_a_reporter_key_cannot_import(watchlist):
    organisation_id = watchlist.register_organisation("New centre", "KZ")
    watchlist.issue_key(organisation_id, "auditor")

    with pytest.raises(NotPermitted, match="no key is an active reporter or admin key"):
        watchlist.importing_principal(organisation_id, None)


def numbered_rows(path: Path, count: int) -> Path:
    """``count`` reports whose narratives say their line, so the log's order can be read."""
    rows = []
    for line in range(1, count + 1):
        body = example_report()
        body["narrative"] = f"line {line}"
        rows.append(json.dumps(body, ensure_ascii=False))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def narratives_in_log_order(database: Any, organisation_id: Any) -> list[str]:
    with psycopg.connect(database.url) as conn:
        rows = conn.execute(
            "SELECT e.state FROM watchlist_events e JOIN watchlist_reports r "
            "ON r.report_id = e.originator_id WHERE r.organisation_id = %s "
            "ORDER BY e.notification_id",
            (organisation_id,),
        ).fetchall()
    return [json.loads(bytes(state))["content"]["narrative"] for (state,) in rows]


def test_the_log_holds_the_rows_in_file_order(watchlist, member, database, tmp_path):
    path = numbered_rows(tmp_path / "calls.ndjson", 200)
    principal = watchlist.importing_principal(member.organisation_id, None)

    import_file(watchlist, principal, path, io.BytesIO(), batch_size=3)

    expected = [f"line {n}" for n in range(1, 201)]
    assert narratives_in_log_order(database, member.organisation_id) == expected


@pytest.mark.parametrize("half", ["prepare_reports", "record_reports"])
def test_a_batch_that_cannot_be_recorded_stops_the_import_and_nothing_after_it_is_recorded(
    watchlist, member, database, tmp_path, monkeypatch, half
):
    path = numbered_rows(tmp_path / "calls.ndjson", 40)
    principal = watchlist.importing_principal(member.organisation_id, None)
    work = getattr(watchlist, half)
    calls = []

    def database_gone_on_the_second_batch(batch: Any) -> Any:
        calls.append(batch)
        if len(calls) == 2:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return work(batch)

    monkeypatch.setattr(watchlist, half, database_gone_on_the_second_batch)
    rejects = io.BytesIO()
    with pytest.raises(ImportStopped, match="from line 11 could not be recorded: server closed"):
        import_file(watchlist, principal, path, rejects, batch_size=10)
    monkeypatch.undo()

    assert narratives_in_log_order(database, member.organisation_id) == [
        f"line {n}" for n in range(1, 11)
    ]
    assert rejects.getvalue() == b""
    again = import_file(watchlist, principal, path, io.BytesIO(), batch_size=10)
    assert (again.imported, again.skipped) == (30, 10)
    assert narratives_in_log_order(database, member.organisation_id) == [
        f"line {n}" for n in range(1, 41)
    ]


def stored_submission(database: Any, report_id: Any) -> tuple[str, str]:
    """A report's stored event, byte for byte, but for what differs between any two
    reports: its id, its time and its sealed part's nonce and ciphertext."""
    with psycopg.connect(database.url) as conn:
        row = conn.execute(
            "SELECT topic, state FROM watchlist_events WHERE originator_id = %s", (report_id,)
        ).fetchone()
    assert row is not None
    topic, state = row[0], bytes(row[1]).decode()
    event = json.loads(state)
    sealed = event["confidential"]
    for unique in (event["originator_id"], event["timestamp"], *sealed.values()):
        if unique != "AES-256-GCM":
            state = state.replace(f'"{unique}"', '"~"')
    return topic, state


def test_an_imported_row_is_stored_as_the_api_stores_the_same_body(
    watchlist, member, database, tmp_path
):
    body = example_report()
    body["confidential"] = {"caller_name": "A caller", "notes": "met at the bus station"}
    path = tmp_path / "one.ndjson"
    path.write_text(json.dumps(body, ensure_ascii=False) + "\n", encoding="utf-8")
    principal = watchlist.importing_principal(member.organisation_id, None)

    run_import(watchlist, member, path)
    (imported,) = watchlist.list_reports(principal, mine=True, cursor=None, limit=1).items
    submitted = watchlist.submit_report(principal, decode_strict(json.dumps(body), ReportBody))

    assert stored_submission(database, imported.id) == stored_submission(database, submitted.id)
    assert body["narrative"] in stored_submission(database, imported.id)[1]
    for report_id in (imported.id, submitted.id):
        record = watchlist.get_report(principal, report_id)
        assert record.confidential == "visible"
        assert record.report.confidential.notes == "met at the bus station"
