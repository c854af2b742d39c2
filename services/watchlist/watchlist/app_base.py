"""What every part of the application stands on: the eventsourcing Application and its pool."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
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
        """A connection from the application's pool, for the read models' queries (the one
        this thread holds, if it holds one: see ``holding_connection``)."""
        with self._recorder().connection() as conn:
            yield conn

    def holding_connection(self) -> AbstractContextManager[None]:
        """Keep one pooled connection for this thread's writes and queries until the block
        ends: what a group-commit writer holds while batches keep coming."""
        return self._recorder().holding_connection()

    def _recorder(self) -> WatchlistRecorder:
        recorder = self.recorder
        assert isinstance(recorder, WatchlistRecorder)
        return recorder
