"""Helpers to document operations: examples and the problem responses they may give."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import BodyKwarg


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem: ``type`` is stable, ``errors`` lists every bad field."""

    type: str
    title: str
    status: int
    detail: str = ""
    errors: list[dict[str, str]] | None = None


def example_body(value: Any, summary: str = "example") -> BodyKwarg:
    return BodyKwarg(examples=[Example(summary=summary, value=value)])


def responses(
    status: int, container: type, example: Any, description: str, *problems: int
) -> dict[int, ResponseSpec]:
    documented: dict[int, ResponseSpec] = {
        status: ResponseSpec(
            data_container=container,
            description=description,
            examples=[Example(summary="example", value=example)],
        )
    }
    for code in problems:
        documented[code] = ResponseSpec(
            data_container=Problem,
            description=f"problem ({code})",
            media_type="application/problem+json",
            generate_examples=False,
        )
    return documented
