"""Domain errors. The API maps each class to one problem type."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    """Something the domain refuses, in words a user can act on."""


@dataclass
class FieldError:
    """One bad field: where it is (a JSON path like ``$.subject.country``) and why."""

    path: str
    message: str


@dataclass
class InvalidInput(DomainError):
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{e.path}: {e.message}" for e in self.errors)


class MalformedJSON(DomainError):
    """The text is not JSON at all."""


class NotFound(DomainError):
    pass


class ReportNotFound(NotFound):
    pass


class OrganisationNotFound(NotFound):
    pass


class ApiKeyNotFound(NotFound):
    pass


class NotPermitted(DomainError):
    """The caller is known but may not do this."""


class ReportAlreadyRetracted(DomainError):
    """A retracted report takes no further amendment or retraction."""


class VersionMismatch(DomainError):
    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"the report is at version {actual}, not {expected}")
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key came with a different body."""


class ConfidentialAlreadyErased(DomainError):
    """The confidential part was erased: nothing sealed can be added to or read from it."""


class EvidenceAlreadyRegistered(DomainError):
    """A file with this hash is already registered on the report."""


class NoDisputePending(DomainError):
    """Only a disputed report's dispute can be resolved, once."""
