"""A small round-robin HTTP/1.1 proxy for the deployment test (tests/platform/deployment.py).

Each request goes to the next API process in turn, over a kept-alive connection to it. When
that process refuses the connection (it is down), the request goes to the next one and the dead
one is skipped for a second, as a load balancer's health check would; nothing was sent to it, so
this is safe for any method. When a process dies after it got the request, the answer is 502 (or
the response is cut short, the connection closed): the proxy never resends a request that may
have been received, so the client retries, and a submit stays safe to retry by its
Idempotency-Key. Requests and responses are relayed as bytes, parsed only as far as framing
needs (Content-Length or chunked), so the proxy costs little CPU next to what it measures.

Run as a script: `python tests/platform/proxy.py --port 8080 --upstream http://127.0.0.1:8001 ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
import time
from urllib.parse import urlsplit

DOWN_FOR_SECONDS = 1.0
IDLE_SECONDS = 3.0  # reuse an upstream connection only this long (the server's keep-alive is 5 s)
HEAD_LIMIT = 1 << 20


class UpstreamFailed(Exception):
    """The upstream failed before any byte of its response reached the client."""


def framing(head: bytes) -> tuple[int | None, bool, bool]:
    """(Content-Length, chunked, connection close) of a request or response head."""
    length, chunked, close = None, False, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    return length, chunked, close


def plain(status: int, reason: str, text: str) -> bytes:
    body = text.encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode() + body


class Upstream:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.url, self.host, self.port = url, parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.down_until = 0.0

    async def connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A kept-alive connection still open (a dead process's are at EOF), else a new one;
        OSError when the process refuses it."""
        now = time.monotonic()
        while self.idle:
            reader, writer, since = self.idle.pop()
            if now - since < IDLE_SECONDS and not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return await asyncio.open_connection(self.host, self.port, limit=HEAD_LIMIT)

    def give_back(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.idle.append((reader, writer, time.monotonic()))


class RoundRobin:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = [Upstream(u) for u in upstreams]
        self.turn = itertools.cycle(range(len(upstreams)))

    def order(self) -> list[Upstream]:
        """The upstreams to try for one request: the next in turn first, those marked down last."""
        first = next(self.turn)
        ring = [self.upstreams[(first + k) % len(self.upstreams)] for k in range(len(self.upstreams))]
        now = time.monotonic()
        return [u for u in ring if u.down_until <= now] + [u for u in ring if u.down_until > now]

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                length, chunked, close = framing(head)
                if chunked:
                    writer.write(plain(411, "Length Required", "send a Content-Length"))
                    return
                body = await reader.readexactly(length) if length else b""
                if not await self.forward(head, body, writer) or close:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            with contextlib.suppress(Exception):
                await writer.drain()
            writer.close()

    async def forward(self, head: bytes, body: bytes, client: asyncio.StreamWriter) -> bool:
        """Relay one request; whether the client's connection can carry another."""
        method = head.split(b" ", 1)[0]
        for upstream in self.order():
            try:
                up_reader, up_writer = await upstream.connection()
            except OSError:
                upstream.down_until = time.monotonic() + DOWN_FOR_SECONDS
                continue
            try:
                return await self.exchange(upstream, up_reader, up_writer, method, head + body, client)
            except UpstreamFailed as e:
                up_writer.close()
                client.write(plain(502, "Bad Gateway", f"upstream {upstream.url} failed: {e}"))
                return True
            except BaseException:
                up_writer.close()
                raise
        client.write(plain(502, "Bad Gateway", "no upstream is up"))
        return True

    async def exchange(self, upstream: Upstream, up_reader: asyncio.StreamReader,
                       up_writer: asyncio.StreamWriter, method: bytes, request: bytes,
                       client: asyncio.StreamWriter) -> bool:
        try:
            up_writer.write(request)
            head = await up_reader.readuntil(b"\r\n\r\n")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
            raise UpstreamFailed(type(e).__name__) from e
        status = int(head.split(b" ", 2)[1])
        length, chunked, close = framing(head)
        client.write(head)
        # From here on the client has part of the response: a failure can only cut it short.
        if method == b"HEAD" or status in (204, 304) or 100 <= status < 200:
            pass
        elif chunked:
            while True:
                size_line = await up_reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0], 16)
                client.write(size_line)
                if size == 0:
                    while (trailer := await up_reader.readuntil(b"\r\n")) != b"\r\n":
                        client.write(trailer)
                    client.write(b"\r\n")
                    break
                client.write(await up_reader.readexactly(size + 2))
                await client.drain()
        elif length is not None:
            left = length
            while left:
                piece = await up_reader.read(min(left, 1 << 16))
                if not piece:
                    raise asyncio.IncompleteReadError(b"", left)
                client.write(piece)
                left -= len(piece)
                await client.drain()
        else:  # delimited by the end of the connection: the client's must end too
            while piece := await up_reader.read(1 << 16):
                client.write(piece)
                await client.drain()
            up_writer.close()
            return False
        await client.drain()
        if close:
            up_writer.close()
        else:
            upstream.give_back(up_reader, up_writer)
        return not close


async def serve(host: str, port: int, upstreams: list[str]) -> None:
    proxy = RoundRobin(upstreams)
    server = await asyncio.start_server(proxy.serve_client, host, port, limit=HEAD_LIMIT, backlog=1024)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True, help="An API process's base URL.")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:  # the plain event loop does too, a little slower
        asyncio.run(serve(args.host, args.port, args.upstream))
    else:
        uvloop.run(serve(args.host, args.port, args.upstream))


if __name__ == "__main__":
    main(sys.argv[1:])
