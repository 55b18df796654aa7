"""Readers turn a file into records: `(where, object)` pairs, or `(where, Problem)` for bad input.

Every reader streams (memory stays flat in the file's size), decodes UTF-8 strictly, and says
where a problem is: the line for JSONL and CSV, the record for a JSON array, the file (and
line) for a folder or zip archive of .txt files. `Source.bytes_read` reports progress.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import orjson

from labelloop.errors import Invalid, Problem

FORMATS = ("jsonl", "json", "csv", "tsv", "txt", "zip")
BOM = b"\xef\xbb\xbf"
MAX_TXT_BYTES = 50 * 1024 * 1024
# A .txt file's content goes into the schema's first text field; records.py resolves this key.
TXT_TEXT_KEY = "\x00text"

@dataclass(frozen=True)
class Where:
    line: int | None = None
    record: int | None = None
    file: str | None = None

    def problem(self, message: str, field: str | None = None) -> Problem:
        return Problem(message, line=self.line, field=field, record=self.record, file=self.file)


def detect_format(path: Path, declared: str | None = None) -> str:
    if declared:
        if declared not in FORMATS:
            raise Invalid(
                "unknown import format",
                [Problem(f"{declared!r}; known: {', '.join(FORMATS)}", field="format")],
            )
        return declared
    if path.is_dir():
        return "txt"
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".zip"):
        return suffix[1:]
    if suffix == ".json":
        with path.open("rb") as f:
            head = f.read(4096).lstrip(BOM + b" \t\r\n")
        return "json" if head.startswith(b"[") else "jsonl"
    raise Invalid(
        "cannot tell the file's format",
        [Problem(f"name it .jsonl, .json, .csv, .tsv or .zip, or give a format ({', '.join(FORMATS)})",
                 field="format")],
    )


def _utf8_problem(raw: bytes, where: Where) -> Problem | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return where.problem(
            f"not valid UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
            "save the file as UTF-8"
        )
    return None


class Source:
    """An opened input and how far into it a reader has got."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.format = fmt
        self.bytes_read = 0
        self.total_bytes = (
            sum(p.stat().st_size for p in path.rglob("*.txt")) if path.is_dir() else path.stat().st_size
        )

    def records(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        readers = {
            "jsonl": self._jsonl, "json": self._json_array, "csv": self._csv, "tsv": self._csv,
            "txt": self._txt_folder, "zip": self._txt_zip,
        }
        yield from readers[self.format]()

    def _counted(self, f: BinaryIO) -> Iterator[bytes]:
        for raw in f:
            self.bytes_read += len(raw)
            yield raw

    def _jsonl(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        with self.path.open("rb") as f:
            for n, raw in enumerate(self._counted(f), 1):
                if n == 1 and raw.startswith(BOM):
                    raw = raw[len(BOM):]
                if not raw.strip():
                    continue
                where = Where(line=n)
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError as e:
                    yield where, _utf8_problem(raw, where) or where.problem(
                        f"invalid JSON: {e.msg} (column {e.colno})"
                    )
                    continue
                if not isinstance(obj, dict):
                    yield where, where.problem(f"expected a JSON object, got {type(obj).__name__}")
                    continue
                yield where, obj

    def _json_array(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        with self.path.open("rb") as f:
            head = f.read(len(BOM))
            if head != BOM:
                f.seek(0)
            counted = _CountingReader(f, self)
            n = 0
            try:
                for n, obj in enumerate(ijson.items(counted, "item", use_float=True), 1):
                    where = Where(record=n)
                    if not isinstance(obj, dict):
                        yield where, where.problem(f"expected a JSON object, got {type(obj).__name__}")
                        continue
                    yield where, obj
            except (ijson.JSONError, UnicodeDecodeError) as e:
                message = str(e).splitlines()[0] if str(e) else type(e).__name__
                yield Where(record=n + 1), Where(record=n + 1).problem(
                    f"invalid JSON after record {n}: {message}"
                )

    def _csv(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        delimiter = "\t" if self.format == "tsv" else ","
        pending: list[Problem] = []
        with self.path.open("rb") as f:
            lines = _decoded_lines(self._counted(f), pending)
            reader = csv.reader(lines, delimiter=delimiter, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                yield Where(line=1), Where(line=1).problem("the file is empty")
                return
            except csv.Error as e:
                yield Where(line=1), Where(line=1).problem(f"unreadable CSV header: {e}")
                return
            header_problem = _check_header(header)
            if header_problem:
                yield Where(line=1), Where(line=1).problem(header_problem)
                return
            line = reader.line_num
            while True:
                start = line + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as e:
                    yield Where(line=start), Where(line=start).problem(f"unreadable CSV: {e}")
                    return
                line = reader.line_num
                where = Where(line=start)
                if pending:  # this row holds bytes that are not UTF-8
                    for p in pending:
                        yield Where(line=p.line), p
                    pending.clear()
                    continue
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    yield where, where.problem(
                        f"{len(row)} values, but the header has {len(header)} columns"
                    )
                    continue
                yield where, {k: v for k, v in zip(header, row, strict=True) if v != ""}
            for p in pending:
                yield Where(line=p.line), p

    def _txt_folder(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        for p in sorted(self.path.rglob("*.txt")):
            rel = p.relative_to(self.path).as_posix()
            raw = p.read_bytes()
            self.bytes_read += len(raw)
            yield _txt_record(rel, raw)

    def _txt_zip(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        try:
            archive = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as e:
            yield Where(), Where().problem(f"not a zip archive: {e}")
            return
        with archive:
            members = sorted(
                (m for m in archive.infolist()
                 if not m.is_dir() and m.filename.endswith(".txt")
                 and not m.filename.startswith("__MACOSX/")),
                key=lambda m: m.filename,
            )
            for m in members:
                self.bytes_read += m.compress_size
                if m.file_size > MAX_TXT_BYTES:
                    yield Where(file=m.filename), Where(file=m.filename).problem(
                        f"larger than {MAX_TXT_BYTES // (1024 * 1024)} MiB"
                    )
                    continue
                yield _txt_record(m.filename, archive.read(m))


class _CountingReader:
    """A file wrapper that counts the bytes ijson pulls through it."""

    def __init__(self, f: BinaryIO, source: Source) -> None:
        self.f = f
        self.source = source

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.source.bytes_read += len(data)
        return data


def _decoded_lines(raw_lines: Iterator[bytes], problems: list[Problem]) -> Iterator[str]:
    for n, raw in enumerate(raw_lines, 1):
        if n == 1 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            problem = _utf8_problem(raw, Where(line=n))
            assert problem is not None
            problems.append(problem)
            yield raw.decode("utf-8", errors="replace")


def _check_header(header: list[str]) -> str | None:
    names = [h.strip() for h in header]
    if any(not h for h in names):
        return f"column {names.index('') + 1} of the header has no name"
    dupes = sorted({h for h in names if names.count(h) > 1})
    if dupes:
        return f"the header names {', '.join(dupes)} more than once"
    header[:] = names
    return None


def _txt_record(name: str, raw: bytes) -> tuple[Where, dict[str, Any] | Problem]:
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        where = Where(file=name, line=line)
        return where, where.problem(
            f"not valid UTF-8 (byte 0x{raw[e.start]:02x} at column {column}); save the file as UTF-8"
        )
    return Where(file=name), {"id": name[: -len(".txt")], TXT_TEXT_KEY: text}
