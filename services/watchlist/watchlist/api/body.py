"""Strict request bodies: JSON only, within size, every bad field named at once
(see ``watchlist.decoding``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from litestar import Request
from litestar.dto import AbstractDTO
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.typing import FieldDefinition

from watchlist import decoding
from watchlist.api.problems import field_errors, problem
from watchlist.domain.errors import InvalidInput, MalformedJSON

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

T = TypeVar("T")
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


def expect_json(
    cls: type, *, decode: bool = True
) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """A ``before_request`` hook: refuse a body that is not JSON of type ``cls``.

    With ``decode=False`` it refuses only what is not JSON at all (another media
    type, an empty body), for a handler whose ``StrictBody`` decodes the rest.
    """

    async def check(request: Request[Any, Any, Any]) -> None:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if not JSON_MEDIA.match(media_type):
            raise problem(
                415,
                "unsupported-media-type",
                "The body must be application/json",
                f"got {media_type or 'no Content-Type'}",
            )
        body = await request.body()
        if decode or not body:
            decode_strict(body, cls)

    return check


class StrictBody(AbstractDTO[T]):
    """A handler's ``data``, decoded once, strictly, from the raw body.

    Without it Litestar parses the body into Python objects and converts those
    into the Struct after ``expect_json`` has already decoded it: three passes
    over every body. As a DTO, the strict decoding is the only one, and the
    OpenAPI document still shows the Struct's schema and the example.
    """

    def decode_bytes(self, value: bytes) -> Any:
        return decode_strict(value, self.model_type)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        # Litestar asks this only of a body declared as a form; these bodies are JSON.
        raise NotImplementedError("a JSON body only")

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        """Nothing to prepare: the body is decoded straight into ``model_type``."""

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        return schema_creator.for_field_definition(field_definition)

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()  # no transfer model is ever built

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False
