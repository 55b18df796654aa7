"""A guard in front of ijson: how deep and how large each record of a JSON array is, on the raw bytes.

ijson keeps the path of every open level, so its memory grows with the square of the nesting:
a 200 KB file of brackets took gigabytes. It also builds each record whole before handing it
over. So every piece of the file goes through `ArrayGuard.scan` before ijson sees it, which
follows strings, nesting and where each top-level record starts, and stops the read at the
first record nested too deeply or grown too large, naming it. The scan is vectorised (numpy
over the few characters that matter), so it costs a fraction of the parse.
"""

from __future__ import annotations

import numpy as np

_QUOTE, _COMMA = ord('"'), ord(",")
_SPECIAL = bytes(c in b'"[]{},' for c in range(256))  # for bytes.translate: 1 where it matters
_STEP = np.zeros(256, dtype=np.int64)  # what a character does to the nesting, outside strings
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class Refused(Exception):
    """A record broke a limit; `record` is its 1-based position in the array."""

    def __init__(self, record: int, message: str) -> None:
        super().__init__(message)
        self.record = record
        self.message = message


class ArrayGuard:
    def __init__(self, *, max_depth: int, max_record_bytes: int, too_deep: str, too_large: str) -> None:
        self.max_level = max_depth + 1  # the array itself is level 1, its records level 2
        self.max_bytes = max_record_bytes
        self.too_deep = too_deep
        self.too_large = too_large
        self.level = 0  # nesting after the last scanned byte
        self.in_string = False
        self.record = 1  # the record being read
        self.boundary = -1  # offset of the '[' or ',' before it; -1: not inside the array yet
        self.offset = 0  # offset of the first byte not yet scanned
        self.carry = b""  # trailing backslashes: what they escape is in the next piece

    def scan(self, piece: bytes) -> None:
        """Follow `piece`, the next bytes of the file; raise `Refused` at the first broken limit."""
        data = self.carry + piece
        body = data.rstrip(b"\\")
        self.carry = data[len(body):]
        if body:
            self._scan(body)
        self.offset += len(body)
        if self.boundary >= 0 and self.offset + len(self.carry) - self.boundary - 1 > self.max_bytes:
            raise Refused(self.record, self.too_large)

    def _scan(self, body: bytes) -> None:
        # Escapes first, so every quote left opens or closes a string. Pairs go left to right as
        # in JSON ("\\\"" is an escaped backslash, then an escaped quote); lengths are unchanged.
        if b"\\" in body:
            body = body.replace(b"\\\\", b"__").replace(b'\\"', b"__")
        at = np.flatnonzero(np.frombuffer(body.translate(_SPECIAL), dtype=np.bool_))
        if not at.size:
            return
        chars = np.frombuffer(body, dtype=np.uint8)[at]
        quotes = chars == _QUOTE
        quotes_so_far = np.cumsum(quotes) + self.in_string
        self.in_string = bool(quotes_so_far[-1] & 1)
        outside = ~quotes & (quotes_so_far & 1 == 0)
        at, chars = at[outside], chars[outside]
        if not at.size:
            return
        steps = _STEP[chars]
        levels = self.level + np.cumsum(steps)
        # A record ends at a comma between records or at the array's ']'; one starts after
        # the array's '[' or such a comma.
        commas = (chars == _COMMA) & (levels == 1)
        starts = commas | ((steps == 1) & (levels == 1))
        ends = commas | ((steps == -1) & (levels == 0))
        records_before = self.record + np.cumsum(commas) - commas

        deep = np.flatnonzero(levels > self.max_level)
        first_deep = int(deep[0]) if deep.size else at.size
        marks = np.flatnonzero(starts | ends)
        marks = marks[marks < first_deep]
        if marks.size:
            where = at[marks] + self.offset
            previous = np.concatenate(([self.boundary], where[:-1]))
            opened = np.concatenate(([self.boundary >= 0], starts[marks][:-1]))
            large = np.flatnonzero(ends[marks] & opened & (where - previous - 1 > self.max_bytes))
            if large.size:
                raise Refused(int(records_before[marks[large[0]]]), self.too_large)
            last = marks[-1]
            self.boundary = int(where[-1]) if starts[last] else -1
        if deep.size:
            raise Refused(int(records_before[first_deep]), self.too_deep)
        self.level = int(levels[-1])
        self.record = int(records_before[-1] + commas[-1])
