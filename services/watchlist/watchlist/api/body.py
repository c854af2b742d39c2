"""Strict request bodies: JSON only, within size, every bad field named at once
(see ``watchlist.decoding``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request

from watchlist import decoding
from watchlist.api.problems import field_errors, problem
from watchlist.domain.errors import InvalidInput, MalformedJSON

JSON_MEDIA = re.compile(r"^application/([\w.+-]+\+)?json$")


def decode_strict(raw: bytes, cls: type) -> Any:
    """Decode ``raw`` as ``cls`` or raise a 400/422 problem naming every bad field."""
    try:
        return decoding.decode_strict(raw, cls)
    except MalformedJSON as exc:
        raise problem(400, "malformed-json", "The body is not valid JSON", str(exc)) from None
    except InvalidInput as exc:
        raise problem(
            422,
            "invalid-input",
            "The body is invalid",
            f"{len(exc.errors)} invalid field(s)",
            errors=field_errors(exc.errors),
        ) from None


def expect_json(cls: type) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """A ``before_request`` hook: refuse a body that is not JSON of type ``cls``."""

    async def check(request: Request[Any, Any, Any]) -> None:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if not JSON_MEDIA.match(media_type):
            raise problem(
                415,
                "unsupported-media-type",
                "The body must be application/json",
                f"got {media_type or 'no Content-Type'}",
            )
        decode_strict(await request.body(), cls)

    return check
