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
EXAMPLE_RECORDED: dict[str, Any] = {"id": EXAMPLE_ID, "version": 1, "position": 42}
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
