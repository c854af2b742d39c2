"""What every part of the application stands on: the eventsourcing Application and its pool."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg import Connection

from watchlist.domain.taxonomy import Taxonomy
from watchlist.persistence import MsgspecMapper, MsgspecTranscoder, WatchlistRecorder


class WatchlistBase(Application[UUID]):
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
