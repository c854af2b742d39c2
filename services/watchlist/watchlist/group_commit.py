"""Group commit: calls that arrive together share one transaction.

Each caller hands over its item and waits on its own future. One writer thread
takes whatever has queued up while its previous transaction was committing and
writes all of it in one transaction, then hands each caller its own outcome.
Nothing waits on a timer: an idle system commits a lone item at once, and a
busy one commits larger batches, because more arrives during each commit.

Durability is unchanged: a caller's future resolves only after the transaction
holding its item has committed. Order is arrival order. The ``write`` function
returns one outcome per item, an exception for an item refused alone; if it
raises, every item of that batch gets the exception.

Callers on an event loop ``await commit(item)``: the writer wakes each loop once
per batch and settles all of that loop's futures in one go, where a thread's
future wrapped for asyncio would cost one wake-up, and a hop through the loop's
self-pipe, per item. A caller that stops waiting (its task cancelled) does not
take its item back, nor any outcome from its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from contextlib import AbstractContextManager, nullcontext
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)


class GroupCommitClosed(RuntimeError):
    """The writer has stopped; nothing more is accepted."""


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        write: Callable[[list[T]], Sequence[R | Exception]],
        *,
        name: str,
        max_batch: int = 1000,
        session: Callable[[], AbstractContextManager[object]] = nullcontext,
        session_seconds: float = 1.0,
    ) -> None:
        """``session`` is entered before a batch when the writer was idle and left when
        nothing more has queued up, after a failed batch, or ``session_seconds`` after it
        began: the batches of one busy period share what it holds (a connection: see
        ``holding_connection``)."""
        self._write = write
        self._session, self._session_seconds = session, session_seconds
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[T, Future[R] | asyncio.Future[R]] | None] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self.batches = 0

    def submit(self, item: T) -> Future[R]:
        """Queue ``item``; the future resolves once its transaction has committed."""
        future: Future[R] = Future()
        self._put(item, future)
        return future

    async def commit(self, item: T) -> R:
        """Queue ``item`` and wait, holding no thread, until its transaction has committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._put(item, future)
        return await future

    def _put(self, item: T, future: Future[R] | asyncio.Future[R]) -> None:
        with self._lock:
            if self._closed:
                raise GroupCommitClosed("the writer is closed")
            self._queue.put((item, future))

    def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            session = self._session()
            try:
                session.__enter__()
            except Exception as exc:  # the batch cannot even start: its callers hear why
                log.exception("group commit could not start")
                batch = [first]
                stopping = self._fill(batch)
                _settle([future for _, future in batch], [exc] * len(batch))
                continue
            try:
                stopping = self._busy_period(first)
            finally:
                try:
                    session.__exit__(None, None, None)
                except Exception:  # the writer must outlive it
                    log.exception("group commit session did not end cleanly")

    def _busy_period(self, first: tuple[T, Future[R] | asyncio.Future[R]]) -> bool:
        """Batch after batch, while work keeps coming, for ``session_seconds`` at most (then
        a new session: a held connection goes back to the pool, which checks it, and
        retires it once it is old); True once the writer is closed."""
        batch = [first]
        stopping = self._fill(batch)
        until = time.monotonic() + self._session_seconds
        while True:
            if not self._commit(batch) or stopping:
                return stopping  # after a failure, a new session (a sound connection)
            if time.monotonic() >= until:
                return False
            batch = []
            stopping = self._fill(batch)
            if not batch:  # nothing came while the last batch committed
                return stopping

    def _fill(self, batch: list[tuple[T, Future[R] | asyncio.Future[R]]]) -> bool:
        """Add what has queued up to ``batch``; True if the writer was closed meanwhile."""
        while len(batch) < self._max_batch:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                return False
            if more is None:
                return True
            batch.append(more)
        return False

    def _commit(self, batch: list[tuple[T, Future[R] | asyncio.Future[R]]]) -> bool:
        futures = [future for _, future in batch]
        outcomes: Sequence[R | Exception]
        try:
            outcomes = self._write([item for item, _ in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} items")
        except Exception as exc:  # every caller of the batch hears of it
            log.exception("group commit of %d items failed", len(batch))
            _settle(futures, [exc] * len(batch))
            return False
        self.batches += 1
        _settle(futures, outcomes)
        return True


def _settle(
    futures: Sequence[Future[R] | asyncio.Future[R]], outcomes: Sequence[R | Exception]
) -> None:
    """Hand each caller its outcome: threads' futures at once, each loop's in one call."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[R], R | Exception]]] = {}
    for future, outcome in zip(futures, outcomes, strict=True):
        if isinstance(future, asyncio.Future):
            by_loop.setdefault(future.get_loop(), []).append((future, outcome))
            continue
        try:
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        except InvalidStateError:  # its caller cancelled it and waits no more
            pass
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_on_loop, settled)
        except RuntimeError:  # the loop has closed: nobody is left to answer
            log.warning("%d outcomes for a closed event loop dropped", len(settled))


def _settle_on_loop(settled: list[tuple[asyncio.Future[R], R | Exception]]) -> None:
    for future, outcome in settled:
        if future.done():  # its task was cancelled and waits no more
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
