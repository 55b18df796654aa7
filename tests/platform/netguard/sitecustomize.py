"""The network cut for tests: every connection, datagram or name lookup off the loopback fails.

Python imports `sitecustomize` at start-up from its path, so putting this folder on PYTHONPATH
installs the guard in a process and in every Python process it starts, before any of its own
code runs. It does nothing unless LABELLOOP_TEST_NETWORK_GUARD names a file; each refused
attempt is appended there as a JSON line (what, where, and the innermost frames of who asked),
so a test can assert that nothing tried to leave, not only that nothing got out. It is never
installed outside tests.

What it sees: Python's sockets (`connect`, `connect_ex`, `sendto`, `sendmsg`) and name lookups
(`getaddrinfo`, `gethostbyname`), which is how httpx, urllib, requests and the stdlib reach out.
Native code that opens sockets itself is outside its sight; a network namespace (`unshare -rn`)
covers that where it is allowed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import traceback
from typing import Any

RECORD = os.environ.get("LABELLOOP_TEST_NETWORK_GUARD")
_lock = threading.Lock()


def _loopback_host(host: Any) -> bool:
    if host is None or host in ("", "localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _allowed(address: Any, family: int) -> bool:
    if family == getattr(socket, "AF_UNIX", None) or isinstance(address, (str, bytes)):
        return True  # a local socket file (the PostgreSQL server of the tests, say)
    if isinstance(address, tuple) and address:
        return _loopback_host(address[0])
    return False


def _refuse(what: str, where: Any) -> OSError:
    entry = {"pid": os.getpid(), "what": what, "where": repr(where),
             "stack": traceback.format_stack(limit=8)[:-2]}
    with _lock, open(RECORD, "a", encoding="utf-8") as out:  # type: ignore[arg-type]
        out.write(json.dumps(entry) + "\n")
    return OSError(101, f"network cut by the test guard: {what} {where!r}")  # ENETUNREACH


def _install() -> None:
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto
    original_sendmsg = socket.socket.sendmsg
    original_getaddrinfo = socket.getaddrinfo
    original_gethostbyname = socket.gethostbyname

    def connect(self: socket.socket, address: Any) -> None:
        if not _allowed(address, self.family):
            raise _refuse("connect", address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _allowed(address, self.family):
            raise _refuse("connect_ex", address)
        return original_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        address = args[-1]
        if not _allowed(address, self.family):
            raise _refuse("sendto", address)
        return original_sendto(self, data, *args)  # type: ignore[call-overload, no-any-return]

    def sendmsg(self: socket.socket, buffers: Any, *args: Any) -> int:
        if len(args) >= 3 and args[2] is not None and not _allowed(args[2], self.family):
            raise _refuse("sendmsg", args[2])
        return original_sendmsg(self, buffers, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback_host(host):
            raise _refuse("getaddrinfo", host)
        return original_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host: str) -> str:
        if not _loopback_host(host):
            raise _refuse("gethostbyname", host)
        return original_gethostbyname(host)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign]
    socket.socket.sendmsg = sendmsg  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname


if RECORD:
    _install()
