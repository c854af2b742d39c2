"""The indicator taxonomy and the generated JSON Schemas, as shipped in schemas/."""

from __future__ import annotations

from watchlist import schema_export
from watchlist.runtime import load_taxonomy, schemas_dir

RED_FLAGS = {
    "no_licence",
    "tourist_visa_for_work",
    "passport_to_agency",
    "fees_charged_to_worker",
    "paradise_abroad_advertising",
    "no_named_employer",
    "hospitality_or_entertainment_job_abroad",
    "admits_unregistered",
    "forged_documents",
}


def test_taxonomy_has_the_hotline_red_flags_with_three_languages():
    taxonomy = load_taxonomy()

    assert set(taxonomy.indicators) >= RED_FLAGS
    for indicator in taxonomy.indicators.values():
        assert indicator.labels.en
        assert indicator.labels.ru
        assert indicator.labels.kk
        assert 1 <= indicator.weight <= 10
        assert indicator.source


def test_taxonomy_groups_cover_the_ilo_frameworks():
    families = {g.family for g in load_taxonomy().groups}

    assert families == {"ilo_forced_labour", "ilo_ec_trafficking", "hotline_red_flag"}
    assert sum(g.family == "ilo_forced_labour" for g in load_taxonomy().groups) == 11


def test_schemas_directory_matches_the_code():
    stale = schema_export.differences(schemas_dir())

    assert stale == [], f"run `watchlist schemas export`; these differ: {stale}"


def test_every_event_class_has_a_schema():
    names = set(schema_export.generate())

    assert "events/watchlist.domain.report.ReportSubmitted.json" in names
    assert "events/watchlist.domain.organisation.ApiKeyIssued.json" in names
    assert len([n for n in names if n.startswith("events/")]) == len(schema_export.event_classes())
