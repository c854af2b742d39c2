"""An API process remembers keys it has checked, for a bounded time: revocation still bites."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from watchlist.api.app import create_app
from watchlist.api.auth import KeyCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(watchlist, settings, projector, clock) -> Any:
    app = create_app(watchlist, settings)
    app.state.key_cache = KeyCache(watchlist.authenticate, settings.key_cache_seconds, clock=clock)
    with TestClient(app) as test_client:
        yield test_client


def test_revoked_key_is_refused_once_its_trusted_seconds_pass(api, watchlist, member, clock):
    issued = watchlist.issue_key(member.organisation_id, "reporter")
    headers = {"Authorization": f"Bearer {issued.key}"}
    assert api.get("/v1/firms", headers=headers).status_code == 200

    watchlist.revoke_key(issued.key_id, "laptop stolen")
    clock.now += 4.9  # within the documented bound the process may still trust it
    assert api.get("/v1/firms", headers=headers).status_code == 200
    clock.now += 0.1

    refused = api.get("/v1/firms", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the API key is unknown or revoked"


def test_a_key_revoked_before_it_was_ever_used_is_refused_at_once(api, watchlist, member):
    issued = watchlist.issue_key(member.organisation_id, "reporter")
    watchlist.revoke_key(issued.key_id, "laptop stolen")

    answer = api.get("/v1/firms", headers={"Authorization": f"Bearer {issued.key}"})

    assert answer.status_code == 401


def test_a_wrong_secret_for_a_cached_key_is_refused(api, watchlist, member):
    issued = watchlist.issue_key(member.organisation_id, "reporter")
    headers = {"Authorization": f"Bearer {issued.key}"}
    assert api.get("/v1/firms", headers=headers).status_code == 200
    forged = issued.key[:-4] + ("AAAA" if not issued.key.endswith("AAAA") else "BBBB")

    answer = api.get("/v1/firms", headers={"Authorization": f"Bearer {forged}"})

    assert answer.status_code == 401


def test_no_cache_checks_every_request(watchlist, member):
    keys = KeyCache(watchlist.authenticate, 0)
    issued = watchlist.issue_key(member.organisation_id, "reporter")
    assert keys.authenticate(issued.key) is not None

    watchlist.revoke_key(issued.key_id, "laptop stolen")

    assert keys.cached(issued.key) is None
    assert keys.authenticate(issued.key) is None
