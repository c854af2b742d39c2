"""A small HTTP/1.1 load generator: keep-alive connections, requests written as bytes.

The bench measures the server, so the client must cost as little as possible:
each connection is an asyncio stream that writes a prepared request and reads
the status line, the headers and a Content-Length body. Two ways to drive it:
closed (N clients, each sending its next request when the last is answered)
and open (requests at a fixed rate, whatever the answers do).

The generator's own garbage collector is off while it measures. The bench
process holds the data set (millions of objects at ``--full``): a full
collection walked it for over a second, every client stood still meanwhile,
and the requests it held up were counted against the server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from projector.following import collector_paused


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    tag: str = ""

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body or self.method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Result:
    tag: str
    status: int
    seconds: float
    body: bytes
    due: float = 0.0  # in an open loop, when it was due, in seconds from the start


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    elapsed: float = 0.0

    def of(self, tag: str | None = None) -> list[Result]:
        return [r for r in self.results if tag is None or r.tag == tag]

    def rate(self, tag: str | None = None) -> float:
        return len(self.of(tag)) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float, tag: str | None = None) -> float:
        """The q-th percentile of latency, in milliseconds (nearest rank)."""
        times = sorted(r.seconds for r in self.of(tag))
        if not times:
            return float("nan")
        rank = max(0, min(len(times) - 1, round(q / 100 * len(times)) - 1))
        return times[rank] * 1000

    def statuses(self, tag: str | None = None) -> dict[int, int]:
        counts: dict[int, int] = {}
        for r in self.of(tag):
            counts[r.status] = counts.get(r.status, 0) + 1
        return counts

    def json_bodies(self, tag: str | None = None) -> Iterator[Any]:
        for r in self.of(tag):
            yield json.loads(r.body)


# uvicorn closes a keep-alive connection idle for 5 s. A request written as it closes
# meets a reset, not an answer: a connection idle this long is opened again instead.
IDLE_SECONDS = 4.0


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def send(self, request: Request) -> tuple[int, bytes]:
        if self.writer is not None and time.perf_counter() - self.used > IDLE_SECONDS:
            self.close()
        reused = self.writer is not None
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            self.writer.write(request.encode(f"{self.host}:{self.port}"))
            status_line = await self.reader.readline()
        except (ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            status_line = b""
        if not status_line:  # the server closed an idle connection: open another
            self.close()
            return await self.send(request)
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        self.used = time.perf_counter()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def closed_loop(
    host: str, port: int, clients: int, seconds: float, requests: Callable[[], Request]
) -> Run:
    """``clients`` connections, each sending its next request as soon as one is answered."""
    run = Run()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        connection = Connection(host, port)
        try:
            while time.perf_counter() < deadline:
                request = requests()
                started = time.perf_counter()
                status, body = await connection.send(request)
                run.results.append(Result(request.tag, status, time.perf_counter() - started, body))
        finally:
            connection.close()

    started = time.perf_counter()
    with collector_paused():
        await asyncio.gather(*(client() for _ in range(clients)))
    run.elapsed = time.perf_counter() - started
    return run


async def open_loop(
    host: str,
    port: int,
    rate: float,
    seconds: float,
    requests: Callable[[], Request],
    connections: int = 256,
) -> Run:
    """Requests at a steady ``rate`` per second; each timed from when it was due, so a
    request that waited for a free connection (at most ``connections`` are open) or
    behind a slow answer counts its wait."""
    run = Run()
    idle: list[Connection] = []
    count = int(rate * seconds)
    start = time.perf_counter()
    free = asyncio.Semaphore(connections)

    async def one(due: float) -> None:
        async with free:
            connection = idle.pop() if idle else Connection(host, port)
            request = requests()
            status, body = await connection.send(request)
            late = time.perf_counter() - due
            run.results.append(Result(request.tag, status, late, body, due - start))
            idle.append(connection)

    tasks = []
    with collector_paused():
        for n in itertools.count():
            if n >= count:
                break
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
    run.elapsed = time.perf_counter() - start
    for connection in idle:
        connection.close()
    return run
