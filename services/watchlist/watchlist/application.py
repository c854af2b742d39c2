"""The Watchlist application: commands as verbs, returning ids and plain values.

``save()`` is the unit of work: the events and the write side's own rows
(see ``watchlist.persistence``) commit in one transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg import Connection

from watchlist import access, sealing
from watchlist.domain.contract import ReportBody, check_report
from watchlist.domain.decision import (
    FirmDecision,
    FirmDecisionEvent,
    FirmsLinked,
    FirmsSeparated,
)
from watchlist.domain.errors import (
    ApiKeyNotFound,
    FieldError,
    IdempotencyKeyReused,
    InvalidInput,
    NotPermitted,
    OrganisationNotFound,
    ReportNotFound,
    VersionMismatch,
)
from watchlist.domain.organisation import Organisation, Role
from watchlist.domain.report import Report, SealedConfidential
from watchlist.domain.taxonomy import Taxonomy
from watchlist.persistence import MsgspecMapper, MsgspecTranscoder, Statement, WatchlistRecorder
from watchlist.views import (
    IssuedKey,
    Principal,
    Recorded,
    ReportPage,
    ReportRecord,
    ReportSummary,
)

KEY_PREFIX = "wl"
CONFIDENTIAL_READERS: frozenset[Role] = frozenset({"reporter", "investigator", "admin"})


class Watchlist(Application[UUID]):
    name = "Watchlist"
    env = {  # noqa: RUF012 - the library's class attribute
        "MAPPER_TOPIC": get_topic(MsgspecMapper),
        "TRANSCODER_TOPIC": get_topic(MsgspecTranscoder),
        "APPLICATION_RECORDER_TOPIC": get_topic(WatchlistRecorder),
    }

    def __init__(self, env: dict[str, str], *, taxonomy: Taxonomy, master_key: bytes) -> None:
        super().__init__(env)
        self.taxonomy = taxonomy
        self._master_key = master_key

    # The write side's tables live beside the event table, on the same pool.
    def _sql(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params)
            return list(curs.fetchall()) if curs.description else []

    @contextmanager
    def connection(self) -> Iterator[Connection[Any]]:
        """A connection from the application's pool, for the read models' queries."""
        recorder = self.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        with recorder.datastore.get_connection() as conn:
            yield conn

    # The access log

    def record_access(self, entry: access.Access) -> None:
        self._sql(access.INSERT, access.row(entry))

    def access_log(
        self,
        *,
        organisation: UUID | None = None,
        firm: UUID | None = None,
        report: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> access.AccessPage:
        statement, params = access.query(organisation, firm, report, since, until, cursor, limit)
        return access.page(self._sql(statement, params), limit)

    # Organisations and keys

    def register_organisation(self, name: str, country: str | None = None) -> UUID:
        name = name.strip()
        if not name:
            raise InvalidInput([FieldError("$.name", "must not be blank")])
        organisation = Organisation.register(id=uuid4(), name=name, country=country)
        self.save(organisation)
        return organisation.id

    def issue_key(self, organisation_id: UUID, role: Role) -> IssuedKey:
        organisation = self._organisation(organisation_id)
        key_id, secret = uuid4(), secrets.token_urlsafe(32)
        key_hash = _hash_secret(secret)
        organisation.issue_key(key_id=key_id, role=role, key_hash=key_hash)
        self.save(
            organisation,
            writes=[
                (
                    "INSERT INTO watchlist_api_keys "
                    "(key_id, organisation_id, role, key_hash, issued_at) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (key_id, organisation_id, role, key_hash, datetime.now(UTC)),
                )
            ],
        )
        return IssuedKey(
            key=f"{KEY_PREFIX}_{key_id.hex}_{secret}",
            key_id=key_id,
            role=role,
            organisation_id=organisation_id,
        )

    def revoke_key(self, key_id: UUID, reason: str = "") -> UUID:
        rows = self._sql(
            "SELECT organisation_id FROM watchlist_api_keys WHERE key_id = %s", (key_id,)
        )
        if not rows:
            raise ApiKeyNotFound(f"no API key {key_id}")
        organisation = self._organisation(rows[0]["organisation_id"])
        organisation.revoke_key(key_id=key_id, reason=reason)
        self.save(
            organisation,
            writes=[
                (
                    "UPDATE watchlist_api_keys SET revoked_at = %s "
                    "WHERE key_id = %s AND revoked_at IS NULL",
                    (datetime.now(UTC), key_id),
                )
            ],
        )
        return organisation.id

    def authenticate(self, token: str) -> Principal | None:
        """The principal a bearer key stands for, or ``None`` for any bad or revoked key."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        try:
            key_id = UUID(hex=parts[1])
        except ValueError:
            return None
        rows = self._sql(
            "SELECT organisation_id, role, key_hash FROM watchlist_api_keys "
            "WHERE key_id = %s AND revoked_at IS NULL",
            (key_id,),
        )
        if not rows or not hmac.compare_digest(bytes(rows[0]["key_hash"]), _hash_secret(parts[2])):
            return None
        return Principal(
            organisation_id=rows[0]["organisation_id"], key_id=key_id, role=rows[0]["role"]
        )

    def organisation_count(self) -> int:
        return int(
            self._sql("SELECT count(DISTINCT organisation_id) AS n FROM watchlist_api_keys")[0]["n"]
        )

    def _organisation(self, organisation_id: UUID) -> Organisation:
        try:
            organisation: Organisation = self.repository.get(organisation_id)
        except AggregateNotFoundError:
            raise OrganisationNotFound(f"no organisation {organisation_id}") from None
        return organisation

    # Reports

    def validate(self, body: ReportBody) -> None:
        problems = check_report(body, self.taxonomy)
        if problems:
            raise InvalidInput(problems)

    def submit_report(
        self, principal: Principal, body: ReportBody, idempotency_key: str | None = None
    ) -> Recorded:
        self.validate(body)
        request_hash = hashlib.sha256(msgspec.json.encode(body, order="sorted")).digest()
        if idempotency_key is not None:
            earlier = self._replay(principal, idempotency_key, request_hash)
            if earlier is not None:
                return earlier
        report_id = uuid4()
        data_key = sealing.new_data_key()
        report = Report.submit(
            id=report_id,
            organisation_id=principal.organisation_id,
            key_id=principal.key_id,
            content=body.content(),
            confidential=self._seal(data_key, report_id, body),
        )
        writes: list[Statement] = [
            (
                "INSERT INTO watchlist_report_keys (report_id, organisation_id, wrapped_key) "
                "VALUES (%s, %s, %s)",
                (
                    report_id,
                    principal.organisation_id,
                    sealing.wrap_key(self._master_key, report_id, data_key),
                ),
            ),
            _directory_insert(report),
        ]
        if idempotency_key is not None:
            writes.insert(
                0,
                (
                    "INSERT INTO watchlist_idempotency_keys "
                    "(organisation_id, idempotency_key, request_hash, report_id) "
                    "VALUES (%s, %s, %s, %s)",
                    (principal.organisation_id, idempotency_key, request_hash, report_id),
                ),
            )
        try:
            recordings = self.save(report, writes=writes)
        except IntegrityError:
            # A concurrent request with the same key won the race: answer as it did.
            if idempotency_key is not None:
                earlier = self._replay(principal, idempotency_key, request_hash)
                if earlier is not None:
                    return earlier
            raise
        return Recorded(
            id=report_id, version=report.version, position=recordings[-1].notification.id
        )

    def _replay(
        self, principal: Principal, idempotency_key: str, request_hash: bytes
    ) -> Recorded | None:
        rows = self._sql(
            "SELECT k.request_hash, k.report_id, e.notification_id "
            "FROM watchlist_idempotency_keys k "
            "JOIN watchlist_events e ON e.originator_id = k.report_id AND e.originator_version = 1 "
            "WHERE k.organisation_id = %s AND k.idempotency_key = %s",
            (principal.organisation_id, idempotency_key),
        )
        if not rows:
            return None
        if bytes(rows[0]["request_hash"]) != request_hash:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {idempotency_key!r} was used before with a different body"
            )
        return Recorded(
            id=rows[0]["report_id"], version=1, position=rows[0]["notification_id"], replayed=True
        )

    def amend_report(
        self,
        principal: Principal,
        report_id: UUID,
        expected_version: int,
        body: ReportBody,
        reason: str,
    ) -> Recorded:
        self.validate(body)
        report = self._own_report(principal, report_id)
        data_key = self._data_key(report_id)
        report.amend(
            expected_version=expected_version,
            key_id=principal.key_id,
            content=body.content(),
            confidential=self._seal(data_key, report_id, body),
            reason=reason,
        )
        return self._save_report(report, expected_version)

    def retract_report(
        self,
        principal: Principal,
        report_id: UUID,
        reason: str,
        expected_version: int | None = None,
    ) -> Recorded:
        report = self._own_report(principal, report_id)
        report.retract(key_id=principal.key_id, reason=reason, expected_version=expected_version)
        return self._save_report(report, expected_version)

    def _save_report(self, report: Report, expected_version: int | None) -> Recorded:
        try:
            recordings = self.save(report, writes=[_directory_update(report)])
        except IntegrityError:
            # Another change to this report committed first.
            raise VersionMismatch(
                expected_version or report.version - 1, self._report(report.id).version
            ) from None
        return Recorded(
            id=report.id, version=report.version, position=recordings[-1].notification.id
        )

    def get_report(self, principal: Principal, report_id: UUID) -> ReportRecord:
        report = self._visible_report(principal, report_id)
        own = report.organisation_id == principal.organisation_id
        confidential = None
        state = "none" if report.confidential is None else "sealed"
        if own and report.confidential is not None and principal.role in CONFIDENTIAL_READERS:
            confidential = sealing.unseal(self._data_key(report_id), report_id, report.confidential)
            state = "visible"
        fields = {f: getattr(report.content, f) for f in report.content.__struct_fields__}
        return ReportRecord(
            id=report.id,
            organisation_id=report.organisation_id,
            version=report.version,
            status=report.status,
            submitted_at=report.submitted_at,
            updated_at=report.modified_on or report.submitted_at,
            retraction_reason=report.retraction_reason,
            confidential=state,  # type: ignore[arg-type]
            report=ReportBody(**fields, confidential=confidential),
        )

    def list_reports(
        self, principal: Principal, *, mine: bool, cursor: str | None, limit: int
    ) -> ReportPage:
        after = _decode_cursor(cursor)
        where = "organisation_id = %s" if mine else "(organisation_id = %s OR sharing = 'partners')"
        rows = self._sql(
            "SELECT report_id AS id, organisation_id, version, status, sharing, display_name, "
            "country, submitted_at, updated_at, seq FROM watchlist_reports "
            f"WHERE {where} AND seq < %s ORDER BY seq DESC LIMIT %s",
            (principal.organisation_id, after, limit + 1),
        )
        more = len(rows) > limit
        rows = rows[:limit]
        items = [ReportSummary(**{k: v for k, v in r.items() if k != "seq"}) for r in rows]
        next_cursor = _encode_cursor(rows[-1]["seq"]) if more else None
        return ReportPage(items=items, next_cursor=next_cursor)

    # Decisions about firms

    def link_firms(self, principal: Principal, firm_a: UUID, firm_b: UUID, reason: str) -> Recorded:
        return self._decide(FirmsLinked, principal, firm_a, firm_b, reason)

    def separate_firms(
        self, principal: Principal, firm_a: UUID, firm_b: UUID, reason: str
    ) -> Recorded:
        return self._decide(FirmsSeparated, principal, firm_a, firm_b, reason)

    def _decide(
        self,
        kind: type[FirmDecisionEvent],
        principal: Principal,
        firm_a: UUID,
        firm_b: UUID,
        reason: str,
    ) -> Recorded:
        if firm_a == firm_b:
            raise InvalidInput([FieldError("$.firm_ids", "name two different firms")])
        decision = FirmDecision.record(
            kind,
            id=uuid4(),
            organisation_id=principal.organisation_id,
            key_id=principal.key_id,
            firm_a=firm_a,
            firm_b=firm_b,
            reason=reason,
        )
        recordings = self.save(decision)
        return Recorded(id=decision.id, version=1, position=recordings[-1].notification.id)

    def _report(self, report_id: UUID) -> Report:
        try:
            report: Report = self.repository.get(report_id)
        except AggregateNotFoundError:
            raise ReportNotFound(f"no report {report_id}") from None
        if not isinstance(report, Report):
            raise ReportNotFound(f"no report {report_id}")
        return report

    def _visible_report(self, principal: Principal, report_id: UUID) -> Report:
        report = self._report(report_id)
        if (
            report.organisation_id != principal.organisation_id
            and report.content.sharing != "partners"
        ):
            # A private report does not exist for anyone else: not even a 403.
            raise ReportNotFound(f"no report {report_id}")
        return report

    def _own_report(self, principal: Principal, report_id: UUID) -> Report:
        report = self._visible_report(principal, report_id)
        if report.organisation_id != principal.organisation_id:
            raise NotPermitted("only the organisation that submitted a report may change it")
        return report

    def _data_key(self, report_id: UUID) -> bytes:
        rows = self._sql(
            "SELECT wrapped_key FROM watchlist_report_keys WHERE report_id = %s", (report_id,)
        )
        if not rows or rows[0]["wrapped_key"] is None:
            raise sealing.SealError(f"report {report_id} has no data key")
        return sealing.unwrap_key(self._master_key, report_id, bytes(rows[0]["wrapped_key"]))

    @staticmethod
    def _seal(data_key: bytes, report_id: UUID, body: ReportBody) -> SealedConfidential | None:
        if body.confidential is None:
            return None
        return sealing.seal(data_key, report_id, body.confidential)


def _hash_secret(secret: str) -> bytes:
    # Keys are 256 random bits: a fast hash is enough, no password stretching needed.
    return hashlib.sha256(secret.encode()).digest()


def _directory_insert(report: Report) -> Statement:
    return (
        "INSERT INTO watchlist_reports (report_id, organisation_id, sharing, status, version, "
        "display_name, country, submitted_at, updated_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            report.id,
            report.organisation_id,
            report.content.sharing,
            report.status,
            report.version,
            report.content.subject.names[0],
            report.content.subject.country,
            report.submitted_at,
            report.modified_on,
        ),
    )


def _directory_update(report: Report) -> Statement:
    return (
        "UPDATE watchlist_reports SET sharing = %s, status = %s, version = %s, "
        "display_name = %s, country = %s, updated_at = %s WHERE report_id = %s",
        (
            report.content.sharing,
            report.status,
            report.version,
            report.content.subject.names[0],
            report.content.subject.country,
            report.modified_on,
            report.id,
        ),
    )


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 2**63 - 1
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput([FieldError("$.cursor", "not a cursor this API gave out")]) from None
