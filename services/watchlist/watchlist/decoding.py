"""Strict decoding of report bodies and other contracts, every bad field named at once.

msgspec decodes a sound document in one pass. Only when it refuses does the
document go through a JSON Schema validator (generated from the same Structs),
which, unlike msgspec, lists every bad field and not just the first. The API
and the bulk import both decode through here, so a row is judged as a request
would be.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, TypeVar

import msgspec
from jsonschema import Draft202012Validator

from watchlist.domain.errors import FieldError, InvalidInput, MalformedJSON

T = TypeVar("T")
MSGSPEC_PATH = re.compile(r"(.*?) - at `(\$[^`]*)`$")
# Control characters other than tab, newline and carriage return: nobody types them, and
# U+0000 cannot be stored in PostgreSQL text at all. In JSON they only come escaped; this
# finds their escapes (and a few look-alikes, which the walk below then clears).
_CONTROL_ESCAPE = re.compile(rb"\\(?:u00(?:0[0-8bcefBCEF]|1[0-9a-fA-F])|[bf])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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


def decode_strict(raw: bytes | str, cls: type[T]) -> T:
    """Decode ``raw`` as ``cls``; raise MalformedJSON, or InvalidInput naming every bad field."""
    try:
        decoded = msgspec.json.decode(raw, type=cls)
    except msgspec.ValidationError as exc:
        first = str(exc)
    except msgspec.DecodeError as exc:
        raise MalformedJSON(str(exc)) from None
    else:
        if _CONTROL_ESCAPE.search(raw if isinstance(raw, bytes) else raw.encode()):
            refuse_control_characters(msgspec.json.decode(raw))
        return decoded
    # A typed decode stops at the first value of the wrong type, so the rest of the
    # document (``3'``: a number, then a stray quote) is first read here.
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise MalformedJSON(str(exc)) from None
    raise InvalidInput(field_errors(document, cls, first))


def convert_strict(document: Any, cls: type[T]) -> T:
    """Like ``decode_strict``, for a document already parsed (a CSV row made into a dict)."""
    try:
        decoded = msgspec.convert(document, type=cls)
    except msgspec.ValidationError as exc:
        raise InvalidInput(field_errors(document, cls, str(exc))) from None
    refuse_control_characters(document)
    return decoded


def refuse_control_characters(document: Any) -> None:
    """InvalidInput naming every string of ``document`` that holds a control character."""
    found = [
        FieldError(path, f"contains control character U+{ord(match[0]):04X}")
        for path, text in _strings(document, "$")
        if (match := _CONTROL.search(text))
    ]
    if found:
        raise InvalidInput(found)


def _strings(value: Any, path: str) -> Any:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def field_errors(document: Any, cls: type, first: str) -> list[FieldError]:
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
    return found
