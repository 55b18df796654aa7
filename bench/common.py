"""Shared by the benchmarks: a lean HTTP/1.1 client and statistics, and the driver of the
benchmarks that are a list of measurements (a table each, then one JSON line).

Kept free of labelloop and of heavy libraries, so that the load generator stays a small,
cheap process: the point of the benchmark is to measure the server, not the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CRLF = b"\r\n"
READ_SIZE = 256 * 1024


class HTTPError(Exception):
    """The server broke the HTTP protocol or closed the connection mid-response."""


# What a request can fail with, short of a response: counted as errors, never fatal.
NET_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HTTPError, ValueError)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Conn:
    """One keep-alive HTTP/1.1 connection (a simulated client), used by one task at a time.

    It sends each request whole, then reads the response: Content-Length, chunked, or until
    the server closes. A connection the server closed while idle (keep-alive timeout) is
    reopened once, transparently, before a request is sent again.
    """

    host: str
    port: int
    token: str | None = None
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    reconnects: int = 0
    _fixed: bytes = field(default=b"", init=False)

    def __post_init__(self) -> None:
        auth = f"Authorization: Bearer {self.token}\r\n" if self.token else ""
        self._fixed = f"Host: {self.host}:{self.port}\r\n{auth}".encode()

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    def _head(self, method: str, path: str, headers: dict[str, str] | None, length: int | None) -> bytes:
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        if length is not None:
            extra += f"Content-Length: {length}\r\n"
        return f"{method} {path} HTTP/1.1\r\n".encode() + self._fixed + extra.encode() + CRLF

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
    ) -> Response:
        """Send a request and read the whole response (retried once on a stale connection)."""
        data = self._head(method, path, headers, len(body) if body is not None else
                          (0 if method in ("POST", "PUT", "PATCH") else None))
        if body:
            data += body
        for attempt in (0, 1):
            if self.writer is None:
                await self.open()
            assert self.reader is not None and self.writer is not None
            try:
                self.writer.write(data)
                status, hdrs = await self._read_head()
            except (ConnectionError, asyncio.IncompleteReadError, HTTPError):
                # Nothing of the response arrived: the server had closed the idle connection.
                await self.close()
                if attempt:
                    raise
                self.reconnects += 1
                continue
            chunks = [c async for c in self._body(method, status, hdrs)]
            return Response(status, hdrs, b"".join(chunks))
        raise AssertionError("unreachable")

    async def stream(
        self, method: str, path: str, headers: dict[str, str] | None = None,
    ) -> tuple[Response, AsyncIterator[bytes]]:
        """Send a body-less request; the response head, and its body as an iterator of chunks."""
        if self.writer is None:
            await self.open()
        assert self.writer is not None
        self.writer.write(self._head(method, path, headers, None))
        status, hdrs = await self._read_head()
        return Response(status, hdrs), self._body(method, status, hdrs)

    async def upload_file(
        self, path: str, file: Path, headers: dict[str, str] | None = None, chunk: int = 1 << 20,
    ) -> Response:
        """POST a file as the raw body, streamed from disk in chunks (never whole in memory)."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(self._head("POST", path, {"Content-Type": "application/octet-stream",
                                                     **(headers or {})}, file.stat().st_size))
        with file.open("rb") as f:
            while piece := f.read(chunk):
                self.writer.write(piece)
                await self.writer.drain()
        status, hdrs = await self._read_head()
        body = b"".join([c async for c in self._body("POST", status, hdrs)])
        return Response(status, hdrs, body)

    async def _read_head(self) -> tuple[int, dict[str, str]]:
        assert self.reader is not None
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HTTPError(f"bad status line {lines[0]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        return int(parts[1]), headers

    async def _body(self, method: str, status: int, headers: dict[str, str]) -> AsyncIterator[bytes]:
        reader = self.reader
        assert reader is not None
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            pass
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = await reader.readuntil(CRLF)
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while await reader.readuntil(CRLF) != CRLF:  # trailers
                        pass
                    break
                while size:
                    piece = await reader.read(min(size, READ_SIZE))
                    if not piece:
                        raise HTTPError("connection closed inside a chunk")
                    size -= len(piece)
                    yield piece
                await reader.readexactly(2)
        elif "content-length" in headers:
            left = int(headers["content-length"])
            while left:
                piece = await reader.read(min(left, READ_SIZE))
                if not piece:
                    raise HTTPError("connection closed inside the body")
                left -= len(piece)
                yield piece
        else:
            while piece := await reader.read(READ_SIZE):
                yield piece
            await self.close()
            return
        if headers.get("connection", "").lower() == "close":
            await self.close()


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linearly interpolated; None for no values."""
    if not values:
        return None
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summarize_ms(seconds: Iterable[float]) -> dict[str, float | int | None]:
    """Count, p50, p95, p99 and max, in milliseconds, of durations given in seconds."""
    ms = [s * 1000 for s in seconds]
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 2)
    return {
        "n": len(ms), "p50": r(percentile(ms, 50)), "p95": r(percentile(ms, 95)),
        "p99": r(percentile(ms, 99)), "max": r(max(ms) if ms else None),
    }


CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux /proc); None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def proc_status_kb(pid: int, key: str) -> int | None:
    """A `kB` value from /proc/<pid>/status, e.g. VmRSS or VmHWM; None if unavailable."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_measurements(measurements: Sequence[Callable[[], dict[str, Any]]], results: Path) -> None:
    """Run each measurement (each prints its table), write every figure to *results*, and print the
    headline figures (tables stay in the file) as the last line, one JSON object."""
    result: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
    }
    for measure in measurements:
        result.update(measure())
    result["load_average_1m_after"] = os.getloadavg()[0]
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=2, default=float) + "\n")
    headline = {k: v for k, v in result.items() if not isinstance(v, (dict, list))}
    print(json.dumps(headline, separators=(",", ":"), default=float))


def report_targets(title: str, out: dict[str, Any], targets: dict[str, tuple[str, float]],
                   results: Path) -> None:
    """Set `targets_met` (a target not measured is not met), print every number of `out` in a
    table with its target, write `out` to *results* and print it as the last line, one JSON object."""
    from rich.console import Console
    from rich.table import Table

    def met(key: str, op: str, target: float) -> bool:
        value = out.get(key)
        return isinstance(value, int | float) and (value >= target if op == ">=" else value <= target)

    out["targets_met"] = all(met(k, op, v) for k, (op, v) in targets.items())
    table = Table(title=title)
    for col in ("measure", "result", "target"):
        table.add_column(col, justify="left" if col == "measure" else "right")
    numbers = {k: v for k, v in out.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    for key in [*targets, *(k for k in numbers if k not in targets)]:
        value = numbers.get(key)
        op, target = targets.get(key, ("", None))
        table.add_row(key, "not measured" if value is None else f"{value:,.4g}",
                      "" if target is None else f"{op} {target:,}")
    Console().print(table)
    results.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(out, separators=(",", ":"), default=float)
    results.write_text(line + "\n")
    print(line)
