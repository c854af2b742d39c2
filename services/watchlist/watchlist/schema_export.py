"""JSON Schemas of every event and API body, generated from the code into ``schemas/``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
from eventsourcing.utils import get_topic

from projector.profile import Profile
from projector.queries import Timeline
from projector.search import FirmPage
from watchlist.api.controllers.firm_records import Decided, Decision
from watchlist.api.controllers.health import Health
from watchlist.api.controllers.public import PublicAnswer
from watchlist.api.controllers.reports import Submitted
from watchlist.api.openapi import Problem
from watchlist.domain import decision, licence, organisation, reply, report
from watchlist.domain.base import DomainEvent
from watchlist.domain.contract import (
    Amendment,
    Erasure,
    Evidence,
    LicenceCheck,
    Reply,
    ReportBody,
    Resolution,
    Retraction,
)
from watchlist.views import ReportPage, ReportRecord

API_BODIES: list[type] = [
    ReportBody,
    Amendment,
    Retraction,
    Erasure,
    Evidence,
    LicenceCheck,
    Reply,
    Resolution,
    Submitted,
    ReportRecord,
    ReportPage,
    Problem,
    Health,
    Decision,
    Decided,
    FirmPage,
    Profile,
    Timeline,
    PublicAnswer,
]
EVENT_MODULES = (decision, licence, organisation, reply, report)


def event_classes() -> list[type[DomainEvent]]:
    def walk(cls: type[DomainEvent]) -> Iterator[type[DomainEvent]]:
        for sub in cls.__subclasses__():
            # Only concrete events: the classes nothing else derives from.
            if sub.__module__.startswith("watchlist.domain") and not sub.__subclasses__():
                yield sub
            yield from walk(sub)

    return sorted(set(walk(DomainEvent)), key=get_topic)


def _render(schema: dict[str, Any], title: str) -> str:
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title}
    document |= schema
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def generate() -> dict[str, str]:
    """Relative path -> file content, for everything under ``schemas/`` that code owns."""
    files: dict[str, str] = {}
    for cls in event_classes():
        topic = get_topic(cls)
        files[f"events/{topic.replace(':', '.')}.json"] = _render(
            msgspec.json.schema(cls), f"event {topic}"
        )
    for body in API_BODIES:
        files[f"api/{body.__name__}.json"] = _render(msgspec.json.schema(body), body.__name__)
    return files


def differences(directory: Path) -> list[str]:
    """Files under ``directory`` that differ from what the code generates."""
    expected = generate()
    found = {
        str(p.relative_to(directory)): p.read_text(encoding="utf-8")
        for sub in ("events", "api")
        for p in (directory / sub).glob("*.json")
    }
    return sorted(
        name for name in expected.keys() | found.keys() if expected.get(name) != found.get(name)
    )


def export(directory: Path) -> list[str]:
    for sub in ("events", "api"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
        for stale in (directory / sub).glob("*.json"):
            stale.unlink()
    written = generate()
    for name, content in written.items():
        (directory / name).write_text(content, encoding="utf-8")
    return sorted(written)
