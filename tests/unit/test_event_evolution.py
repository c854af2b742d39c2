"""Stored events outlive their classes: a field added later, with a default, still loads."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import msgspec
from eventsourcing.application import Application
from eventsourcing.utils import clear_topic_cache, get_topic, register_topic

from watchlist.domain.base import DomainEvent
from watchlist.persistence import MsgspecMapper, MsgspecTranscoder


class LicenceNoted(DomainEvent, frozen=True, kw_only=True):
    """An event as first released."""

    licence: str


class LicenceNotedV2(DomainEvent, frozen=True, kw_only=True):
    """The same event after a field was added, with a default as the rules require."""

    licence: str
    registry: str = "unknown registry"


class InMemory(Application):  # type: ignore[type-arg]
    env = {  # noqa: RUF012
        "PERSISTENCE_MODULE": "eventsourcing.popo",
        "MAPPER_TOPIC": get_topic(MsgspecMapper),
        "TRANSCODER_TOPIC": get_topic(MsgspecTranscoder),
    }


def test_old_event_loads_after_a_field_with_a_default_is_added():
    app = InMemory()
    event = LicenceNoted(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=datetime.now(UTC),
        licence="KZ-LIC-0042",
    )
    app.save(event)
    stored = app.recorder.select_notifications(start=1, limit=10)[0]
    assert stored.topic == get_topic(LicenceNoted)

    # The class at that topic gains a field; the stored bytes stay as they were.
    topic = get_topic(LicenceNoted)
    clear_topic_cache()
    register_topic(topic, LicenceNotedV2)
    try:
        loaded = list(app.events.get(event.originator_id))
    finally:
        clear_topic_cache()

    assert len(loaded) == 1
    assert isinstance(loaded[0], LicenceNotedV2)
    assert loaded[0].licence == "KZ-LIC-0042"
    assert loaded[0].registry == "unknown registry"
    assert loaded[0].timestamp == event.timestamp


def test_stored_state_is_the_events_json():
    event = LicenceNoted(
        originator_id=uuid4(),
        originator_version=3,
        timestamp=datetime(2026, 10, 2, tzinfo=UTC),
        licence="KZ-LIC-0042",
    )

    stored = MsgspecMapper(transcoder=MsgspecTranscoder()).to_stored_event(event)

    assert stored.originator_version == 3
    assert msgspec.json.decode(stored.state)["licence"] == "KZ-LIC-0042"
    assert stored.topic.endswith(":LicenceNoted")
