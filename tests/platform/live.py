"""A real labelloop server process on loopback, for tests that go through the network."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def live_server(
    data_dir: Path, database_url: str, *, workers: int = 1, env: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[LiveServer]:
    port = port or free_port()
    env = {
        **os.environ,
        "LABELLOOP_DATA_DIR": str(data_dir),
        "LABELLOOP_DATABASE_URL": database_url,
        "LABELLOOP_PORT": str(port),
        "LABELLOOP_WORKERS": str(workers),
        "LABELLOOP_ACCESS_LOG": "false",
        "LABELLOOP_LOG_LEVEL": "info",
        **(env or {}),
    }
    log = data_dir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "labelloop", "serve"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", log, proc)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {server.log_text()}")
            try:
                if httpx.get(f"{server.url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {server.log_text()}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
