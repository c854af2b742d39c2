"""Every domain error has a problem type of its own: none falls through to a generic 400."""

from __future__ import annotations

import pytest

from watchlist.api.problems import DOMAIN_PROBLEMS, from_domain_error
from watchlist.domain import errors


def _all(cls: type) -> list[type]:
    return [sub for c in cls.__subclasses__() for sub in (c, *_all(c))]


@pytest.mark.parametrize("error", _all(errors.DomainError), ids=lambda e: e.__name__)
def test_each_domain_error_maps_to_a_stable_problem(error):
    instance = error(1, 2) if error is errors.VersionMismatch else error()

    problem = from_domain_error(instance)

    assert problem.type_ != "urn:watchlist:problem:bad-request", error
    assert 400 <= problem.status_code < 500
    assert any(issubclass(error, cls) for cls, *_ in DOMAIN_PROBLEMS)
