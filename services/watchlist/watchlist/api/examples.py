"""The example report of the README and the OpenAPI document: one copy, also tested."""

from __future__ import annotations

from typing import Any

EXAMPLE_REPORT: dict[str, Any] = {
    "subject": {
        "names": ["ТОО «Рай за границей»", "Rai Za Granitsei LLP"],
        "identifiers": [
            {"kind": "phone", "value": "+7 (7252) 30-01-52"},
            {"kind": "bin", "value": "123456789012"},
            {"kind": "licence", "value": "KZ-LIC-0042"},
        ],
        "addresses": ["Shymkent, Tauke Khan ave 5"],
        "websites": ["rai-abroad.kz"],
        "country": "KZ",
    },
    "incident": {
        "date": "2026-10-02",
        "region": "Turkistan region",
        "destination_country": "CY",
        "job_offered": "waitress",
        "channel": "hotline_call",
    },
    "indicators": [
        {"code": "no_licence", "grade": "confirmed"},
        {"code": "tourist_visa_for_work", "grade": "reported"},
    ],
    "narrative": "Offered waitress work in Cyprus; told to travel on a tourist visa.",
    "source": {"reliability": "B", "credibility": 2},
    "sharing": "partners",
    "confidential": {
        "caller_name": "A. K.",
        "caller_phone": "+77011234567",
        "notes": "calls back evenings",
    },
}

EXAMPLE_ID = "0b7f8a52-3c1e-4f5e-9a1d-2f6c8e4b7a90"
EXAMPLE_ORG = "5d2c1b7e-8f4a-4c3b-9e6d-1a2b3c4d5e6f"
EXAMPLE_RECORDED: dict[str, Any] = {
    "id": EXAMPLE_ID,
    "version": 1,
    "position": 42,
    "projected": True,
    "firm_id": EXAMPLE_ID,
    "risk_level": "medium",
}
EXAMPLE_RECORD: dict[str, Any] = {
    "id": EXAMPLE_ID,
    "organisation_id": EXAMPLE_ORG,
    "version": 1,
    "status": "active",
    "submitted_at": "2026-10-03T09:15:00Z",
    "updated_at": "2026-10-03T09:15:00Z",
    "retraction_reason": None,
    "confidential": "visible",
    "report": EXAMPLE_REPORT,
}
EXAMPLE_PAGE: dict[str, Any] = {
    "items": [
        {
            "id": EXAMPLE_ID,
            "organisation_id": EXAMPLE_ORG,
            "version": 1,
            "status": "active",
            "sharing": "partners",
            "display_name": "ТОО «Рай за границей»",
            "country": "KZ",
            "submitted_at": "2026-10-03T09:15:00Z",
            "updated_at": "2026-10-03T09:15:00Z",
        }
    ],
    "next_cursor": "MTI",
}

EXAMPLE_FIRM = "0b7f8a52-3c1e-4f5e-9a1d-2f6c8e4b7a90"
EXAMPLE_DECISION: dict[str, Any] = {
    "firm_ids": [EXAMPLE_FIRM, "6a1e2d3c-4b5a-4f6e-8d7c-9b0a1f2e3d4c"],
    "reason": "the same director and office; two trading names",
}
EXAMPLE_FIRM_PAGE: dict[str, Any] = {
    "items": [
        {
            "firm_id": EXAMPLE_FIRM,
            "display_name": "ТОО «Рай за границей»",
            "country": "KZ",
            "level": "high",
            "score": 17.28,
            "organisations": 3,
            "match": 1.0,
        }
    ],
    "next_cursor": None,
    "as_of_position": 42,
}
EXAMPLE_PROFILE: dict[str, Any] = {
    "firm_id": EXAMPLE_FIRM,
    "display_name": "ТОО «Рай за границей»",
    "country": "KZ",
    "names": ["ТОО «Рай за границей»", "Rai Za Granitsei LLP"],
    "identifiers": [{"kind": "phone", "value": "+7 (7252) 30-01-52", "key": "phone:+77252300152"}],
    "destination_countries": ["CY"],
    "jobs_offered": ["waitress"],
    "reports": {"total": 1, "active": 1, "retracted": 0},
    "organisations": 1,
    "indicator_counts": {"no_licence": 1, "tourist_visa_for_work": 1},
    "first_incident": "2026-10-02",
    "last_incident": "2026-10-02",
    "first_report_at": "2026-10-03T09:15:00Z",
    "last_report_at": "2026-10-03T09:15:00Z",
    "risk": {
        "model": "risk-v1",
        "score": 5.76,
        "level": "medium",
        "explanation": [
            {
                "report_id": EXAMPLE_ID,
                "organisation_id": EXAMPLE_ORG,
                "indicator": "no_licence",
                "grade": "confirmed",
                "reliability": "B",
                "weight": 4,
                "points": 3.6,
                "counted": True,
                "note": "",
            }
        ],
    },
    "report_ids": [EXAMPLE_ID],
    "as_of_position": 42,
}
