"""One place that turns every error into an RFC 9457 problem response with a stable type."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.plugins.problem_details import ProblemDetailsException

from projector.live import Rebuilding
from watchlist.domain import errors

log = logging.getLogger(__name__)
TYPE_PREFIX = "urn:watchlist:problem:"

# status -> (slug, title) for errors the framework raises
HTTP_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "The request is malformed"),
    401: ("unauthenticated", "A valid API key is required"),
    403: ("forbidden", "This key's role may not do this"),
    404: ("not-found", "No such resource"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "The request conflicts with the resource's state"),
    412: ("version-mismatch", "The resource has changed since that version"),
    413: ("body-too-large", "The request body is too large"),
    415: ("unsupported-media-type", "The body must be application/json"),
    422: ("invalid-input", "The body is not a valid report"),
    428: ("precondition-required", "An If-Match header is required"),
    429: ("rate-limited", "Too many requests"),
}

# domain error -> (status, slug, title)
DOMAIN_PROBLEMS: list[tuple[type[errors.DomainError], int, str, str]] = [
    (errors.InvalidInput, 422, "invalid-input", "The input is invalid"),
    (errors.MalformedJSON, 400, "malformed-json", "The body is not valid JSON"),
    (errors.NotFound, 404, "not-found", "No such resource"),
    (errors.NotPermitted, 403, "forbidden", "Not permitted"),
    (errors.ReportAlreadyRetracted, 409, "report-retracted", "The report was retracted"),
    (
        errors.IdempotencyKeyReused,
        409,
        "idempotency-key-reused",
        "The Idempotency-Key was used with another body",
    ),
    (errors.VersionMismatch, 412, "version-mismatch", "The report has changed since that version"),
    (
        errors.ConfidentialAlreadyErased,
        409,
        "confidential-erased",
        "The confidential part was erased",
    ),
    (errors.NoDisputePending, 409, "no-dispute-pending", "The report has no pending dispute"),
    (
        errors.EvidenceAlreadyRegistered,
        409,
        "evidence-registered",
        "This file is already registered on the report",
    ),
]


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str = "",
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status,
        type_=TYPE_PREFIX + slug,
        title=title,
        detail=detail,
        headers=headers,
        extra=extra or None,
    )


def field_errors(items: list[errors.FieldError]) -> list[dict[str, str]]:
    return [{"path": e.path, "message": e.message} for e in items]


def from_domain_error(exc: errors.DomainError) -> ProblemDetailsException:
    for cls, status, slug, title in DOMAIN_PROBLEMS:
        if isinstance(exc, cls):
            extra: dict[str, Any] = {}
            if isinstance(exc, errors.InvalidInput):
                extra["errors"] = field_errors(exc.errors)
            if isinstance(exc, errors.VersionMismatch):
                extra["current_version"] = exc.actual
            return problem(status, slug, title, str(exc), **extra)
    return problem(400, "bad-request", "The request was refused", str(exc))


def from_http_exception(exc: HTTPException) -> ProblemDetailsException:
    if isinstance(exc, ProblemDetailsException):
        return exc
    slug, title = HTTP_PROBLEMS.get(exc.status_code, ("error", "Error"))
    extra: dict[str, Any] = {}
    if isinstance(exc.extra, list) and exc.extra:
        extra["errors"] = [
            {"path": _parameter_path(e), "message": e.get("message", "")}
            for e in exc.extra
            if isinstance(e, dict)
        ]
    detail = exc.detail if exc.detail != title else ""
    headers = dict(exc.headers or {})
    if exc.status_code == 429 and "RateLimit-Reset" in headers:
        headers["Retry-After"] = headers["RateLimit-Reset"]
    if exc.status_code >= 500:
        slug, title, detail = "internal-error", "Internal error", ""
    return problem(exc.status_code, slug, title, detail, headers=headers or None, **extra)


def _parameter_path(error: dict[str, Any]) -> str:
    """``header.Idempotency-Key``, ``query.limit``: where the bad parameter was sent."""
    source = str(getattr(error.get("source"), "value", error.get("source") or ""))
    key = str(error.get("key", ""))
    if source == "header":
        key = "-".join(part.capitalize() for part in key.split("_"))
    return f"{source}.{key}".strip(".")


def handle_domain_error(request: Request[Any, Any, Any], exc: errors.DomainError) -> Response[Any]:
    return from_domain_error(exc).to_response(request)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return from_http_exception(exc).to_response(request)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        500, "internal-error", "Internal error", "The server failed; the error is logged."
    ).to_response(request)


def handle_rebuilding(request: Request[Any, Any, Any], exc: Rebuilding) -> Response[Any]:
    """After an upgrade, until the projector has replaced read models of an older format:
    an honest "not now" rather than an empty search or a wrong profile."""
    return problem(
        503,
        "not-projected",
        "The read models are being rebuilt",
        "the projector is replaying the log after an upgrade; try again shortly",
        headers={"Retry-After": "10"},
    ).to_response(request)


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {
    Rebuilding: handle_rebuilding,
    errors.DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
