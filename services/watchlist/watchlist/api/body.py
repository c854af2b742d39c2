"""Strict request bodies: JSON only, within size, every bad field named at once.

msgspec decodes a sound body in one pass. Only when it refuses does the body
go through a JSON Schema validator (generated from the same Structs), which,
unlike msgspec, lists every bad field and not just the first.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import msgspec
from jsonschema import Draft202012Validator
from litestar import Request

from watchlist.api.problems import field_errors, problem
from watchlist.domain.errors import FieldError

JSON_MEDIA = re.compile(r"^application/([\w.+-]+\+)?json$")
MSGSPEC_PATH = re.compile(r"(.*?) - at `(\$[^`]*)`$")


@cache
def _validator(cls: type) -> Draft202012Validator:
    return Draft202012Validator(
        msgspec.json.schema(cls), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def decode_strict(raw: bytes, cls: type) -> Any:
    """Decode ``raw`` as ``cls`` or raise a 400/422 problem naming every bad field."""
    try:
        return msgspec.json.decode(raw, type=cls)
    except msgspec.ValidationError as exc:
        first = str(exc)
    except msgspec.DecodeError as exc:
        raise problem(400, "malformed-json", "The body is not valid JSON", str(exc)) from None
    document = msgspec.json.decode(raw)
    found: list[FieldError] = []
    for error in sorted(_validator(cls).iter_errors(document), key=lambda e: e.json_path):
        path = _path(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            found += [
                FieldError(f"{path}.{name}", "unknown field")
                for name in error.instance
                if name not in known
            ]
        else:
            found.append(FieldError(path, error.message))
    if not found:  # a constraint only msgspec knows: report its own message
        match = MSGSPEC_PATH.match(first)
        found = [FieldError(match[2], match[1]) if match else FieldError("$", first)]
    raise problem(
        422,
        "invalid-input",
        "The body is invalid",
        f"{len(found)} invalid field(s)",
        errors=field_errors(found),
    )


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
