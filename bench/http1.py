"""The bench's own HTTP/1.1 client: keep-alive connections over asyncio streams, the
protocol done by h11 (already locked, as httpx's parser).

The load shares the two cores with what it measures. httpx took 11 ms of CPU per request
here at 25/s (its connection pool's request assignment and async-library sniffing were
half of the bench's samples: 24-29 % of a core, a fifth of the machine at the knee).
aiohttp was as cheap as this but brings seven packages to the lock, each one more for
`make audit` to vouch for; h11 is locked already. A bench client needs little: one
request per connection at a time, `Content-Length` bodies, connections dropped after
`idle_s` unused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import h11


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.protocol = h11.Connection(h11.CLIENT)
        self.last_used = time.monotonic()

    def close(self) -> None:
        self.writer.close()


class Client:
    """Requests to one origin, at most `limit` at once, each on a connection of its own."""

    def __init__(
        self,
        base_url: str,
        limit: int,
        *,
        headers: Iterable[tuple[str, str]] = (),
        idle_s: float = 2.0,
        timeout_s: float = 10.0,
    ) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.prefix = url.path.rstrip("/")
        self.headers = [("Host", f"{self.host}:{self.port}"), *headers]
        # Idle connections are dropped before uvicorn's keep-alive timeout (5 s) would
        # close them under a request in flight (a disconnect that is the client's race,
        # not the system's answer).
        self.idle_s = idle_s
        # Per request, from its turn for a connection (not while it waits for one), as
        # httpx's timeout was.
        self.timeout_s = timeout_s
        self._limit = asyncio.Semaphore(limit)
        self._idle: list[_Connection] = []

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
    ) -> tuple[int, bytes]:
        """The response's status and body; TimeoutError after `timeout_s`."""
        async with self._limit:
            connection = self._take()
            try:
                async with asyncio.timeout(self.timeout_s):
                    if connection is None:
                        connection = _Connection(
                            *await asyncio.open_connection(self.host, self.port)
                        )
                    answer = await self._exchange(connection, method, path, body, headers)
            except BaseException:
                if connection is not None:
                    connection.close()
                raise
            protocol = connection.protocol
            if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
                protocol.start_next_cycle()
                connection.last_used = time.monotonic()
                self._idle.append(connection)
            else:
                connection.close()
            return answer

    def _take(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if time.monotonic() - connection.last_used < self.idle_s:
                return connection
            connection.close()
        return None

    async def _exchange(
        self,
        connection: _Connection,
        method: str,
        path: str,
        body: bytes,
        headers: Iterable[tuple[str, str]],
    ) -> tuple[int, bytes]:
        protocol = connection.protocol
        sent = [*self.headers, *headers]
        if body or method in ("POST", "PUT", "PATCH"):
            sent.append(("Content-Length", str(len(body))))
        out = protocol.send(h11.Request(method=method, target=self.prefix + path, headers=sent))
        if body:
            out = (out or b"") + (protocol.send(h11.Data(data=body)) or b"")
        out = (out or b"") + (protocol.send(h11.EndOfMessage()) or b"")
        connection.writer.write(out)
        await connection.writer.drain()
        status, chunks = 0, []
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                protocol.receive_data(await connection.reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return status, b"".join(chunks)

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
