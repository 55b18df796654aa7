"""Readers turn a file into records: `(where, object)` pairs, or `(where, Problem)` for bad input.

Every reader streams (memory stays flat in the file's size), decodes UTF-8 strictly, and says
where a problem is: the line for JSONL and CSV, the record for a JSON array, the file (and
line) for a folder or zip archive of .txt files. `Source.bytes_read` reports progress.

The limits (`ImportLimits`) are checked while reading, never after: a line, row, record or
archive member larger than one item is refused without being held whole, a zip stops once its
members add up to more than the archive limit (counted as they are inflated, not as the
archive declares them), and a JSON array's records nested far too deeply are refused before
ijson builds them (records.py applies the exact depth limit to every format).
"""

from __future__ import annotations

import csv
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

import ijson
import orjson

from labelloop.errors import Invalid, Problem
from labelloop.services.blobs import StoredMedia
from labelloop.services.importing.json_guard import ArrayGuard, Refused
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.names import holds_hf_dataset, holds_media
from labelloop.services.importing.options import DatasetOptions, check_as
from labelloop.services.importing.where import MOVE_IN as MOVE_IN
from labelloop.services.importing.where import Where as Where
from labelloop.services.importing.where import shown as shown

if TYPE_CHECKING:
    from labelloop.schema import LabelSchema

FORMATS = ("jsonl", "json", "csv", "tsv", "txt", "zip", "images", "audio", "video", "coco", "yolo", "voc",
           "hf", "nemo", "srt", "webvtt", "rttm", "mot", "cvat", "label-studio", "doccano")
AUDIO_DATASETS = ("nemo", "srt", "webvtt", "rttm")  # audio datasets with segments (audio/datasets.py)
VIDEO_DATASETS = ("mot", "cvat")  # video datasets with tracks (video/tracked.py)
# datasets with annotations (images/datasets.py)
DATASETS = ("coco", "yolo", "voc", *AUDIO_DATASETS, *VIDEO_DATASETS)
BOM = b"\xef\xbb\xbf"
PIECE = 64 * 1024  # how much is read at a time where a whole line or member may be too large


class TextFile(dict[str, Any]):
    """A .txt file's record: its `text` goes into the schema's first text field (records.py)."""


class StoredRecord(dict[str, Any]):
    """A record whose image or audio files an archive reader stored (archive.py): `images` are the
    stored files its fields now reference as `blob:<sha256>`, for the writer to record with the item."""

    def __init__(self, values: dict[str, Any], images: tuple[StoredMedia, ...] = ()) -> None:
        super().__init__(values)
        self.images = images


class ImageFile(StoredRecord):
    """An image file alone: its `blob` reference goes into the schema's first image field."""


class AudioFile(StoredRecord):
    """An audio file alone: its `blob` reference goes into the schema's first audio field."""


class VideoFile(StoredRecord):
    """A video file (or a folder of frames) alone: its `blob` reference goes into the schema's
    first video field."""


# One .txt file is not taken as one item: a whole data set one upload per item would be a trap,
# and one text per line is what JSONL or CSV say without doubt. A zip of .txt files is the way.
def _one_txt_file() -> Invalid:
    return Invalid(
        "a single .txt file cannot be imported",
        [Problem("put the .txt files in a zip archive and upload that (each file becomes one "
                 "item, its name the item's id), or give the format (jsonl, csv or tsv) if the "
                 "file holds one item per line", field="format")],
    )


def _media_of(fmt: str) -> str:
    return "audio" if fmt in AUDIO_DATASETS else "videos" if fmt in VIDEO_DATASETS else "images"


def detect_format(path: Path, declared: str | None = None) -> str:
    if declared:
        if declared not in FORMATS:
            raise Invalid(
                "unknown import format",
                [Problem(f"{declared!r}; known: {', '.join(FORMATS)}", field="format")],
            )
        if declared == "txt" and not path.is_dir():
            raise _one_txt_file()
        if declared in DATASETS and not (path.is_dir() or zipfile.is_zipfile(path)):
            raise Invalid(f"not a folder or zip of a {declared.upper()} dataset",
                          [Problem(f"a {declared.upper()} dataset is a zip archive (or, with the CLI, a "
                                   f"folder) of its {_media_of(declared)} "
                                   "and annotation files", field="format")])
        if declared == "hf" and not (path.is_dir() or zipfile.is_zipfile(path)):
            raise Invalid("not a folder or zip of a Hugging Face dataset",
                          [Problem("a dataset written by save_to_disk is a folder (with the CLI) or a "
                                   "zip archive of that folder", field="format")])
        if declared in ("images", "audio", "video") and not (path.is_dir() or zipfile.is_zipfile(path)):
            kind = {"images": "image", "audio": "audio", "video": "video"}[declared]
            raise Invalid(f"not a folder or zip of {declared}",
                          [Problem(f"the {declared} format is a zip archive (or, with the CLI, a folder) "
                                   f"of {kind} files", field="format")])
        if declared in ("audio", "video"):
            return "images"  # one reader for archives of media files (archive.py)
        if declared == "zip" and holds_hf_dataset(path):
            return "hf"  # a zip, told apart by what it holds like one of images
        return declared
    if (path.is_dir() or path.suffix.lower() == ".zip") and holds_hf_dataset(path):
        return "hf"  # a Hugging Face dataset written by save_to_disk (feedback/hf_disk.py)
    if path.is_dir():
        return "images" if holds_media(path) else "txt"
    suffix = path.suffix.lower()
    if suffix == ".txt":
        raise _one_txt_file()
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
        [Problem("name it .jsonl, .json, .csv, .tsv or .zip, or give its format "
                 "(jsonl, json, csv, tsv or zip)", field="format")],
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

    def __init__(
        self, path: Path, fmt: str, limits: ImportLimits | None = None,
        header_check: Callable[[list[str]], str | None] | None = None,
        schema: LabelSchema | None = None, dataset: DatasetOptions | None = None,
    ) -> None:
        self.path = path
        # What Label Studio's and doccano's labels are checked against and become (movein/).
        self.schema = schema
        self.dataset = dataset
        self.format = fmt
        self.limits = limits or ImportLimits()
        # What is wrong with a CSV header for the project (a required field with no column),
        # so that is said once rather than on every row.
        self.header_check = header_check
        self.bytes_read = 0
        self.total_bytes = (
            sum(p.stat().st_size for p in path.rglob("*.txt")) if path.is_dir() else path.stat().st_size
        )

    def records(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        readers = {
            "jsonl": self._jsonl, "json": self._json_array, "csv": self._csv, "tsv": self._csv,
            "txt": self._txt_folder, "zip": self._txt_zip, "label-studio": self._moved_in,
            "doccano": self._moved_in,
        }
        yield from readers[self.format]()

    def _moved_in(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        from labelloop.services.importing.movein import doccano, label_studio  # they use Where

        if self.schema is None:
            raise ValueError(f"importing {self.format} needs the project's schema")
        options = self.dataset or DatasetOptions()
        check_as(options, f"{self.format} labels")
        if self.format == "doccano":
            yield from doccano.records(self._jsonl(), self.schema, options.as_, options.question)
        else:
            yield from label_studio.records(self._json_array(), self.schema, options.as_)

    def _lines(self, f: BinaryIO) -> Iterator[bytes | None]:
        """The file's lines, or None for a line longer than one item, skipped piece by piece."""
        limit = self.limits.max_item_bytes
        readline = f.readline
        while raw := readline(limit + 1):  # + 1: the newline
            self.bytes_read += len(raw)
            if len(raw) <= limit or raw.endswith(b"\n"):
                yield raw
                continue
            while not raw.endswith(b"\n") and (raw := readline(PIECE)):
                self.bytes_read += len(raw)
            yield None

    def _jsonl(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        limits = self.limits
        with self.path.open("rb") as f:
            for n, raw in enumerate(self._lines(f), 1):
                if raw is None:
                    yield Where(line=n), Where(line=n).problem(limits.item_too_large("line"))
                    continue
                if n == 1 and raw.startswith(BOM):
                    raw = raw[len(BOM):]
                if not raw.strip():
                    continue
                where = Where(line=n)
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError as e:
                    yield where, _utf8_problem(raw, where) or where.problem(
                        limits.too_deep() if e.msg == "depth limit exceeded"
                        else f"invalid JSON: {e.msg} (column {e.colno})"
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
            limits = self.limits
            # A backstop for memory: records.py applies the exact depth limit and names the
            # field; the guard stops records far past it before ijson builds them.
            guard = ArrayGuard(
                max_depth=2 * limits.max_json_depth, max_record_bytes=limits.max_item_bytes,
                too_deep=limits.too_deep(), too_large=limits.item_too_large("record"),
            )
            guarded = _GuardedReader(f, self, guard)
            n = 0
            try:
                for n, obj in enumerate(ijson.items(guarded, "item", use_float=True), 1):
                    where = Where(record=n)
                    if not isinstance(obj, dict):
                        yield where, where.problem(f"expected a JSON object, got {type(obj).__name__}")
                        continue
                    yield where, obj
            except Refused as e:
                yield Where(record=e.record), Where(record=e.record).problem(e.message)
            except (ijson.JSONError, UnicodeDecodeError) as e:
                message = str(e).splitlines()[0] if str(e) else type(e).__name__
                yield Where(record=n + 1), Where(record=n + 1).problem(
                    f"invalid JSON after record {n}: {message}"
                )

    def _csv(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        delimiter = "\t" if self.format == "tsv" else ","
        pending: list[Problem] = []
        # The csv module's own cap (128 Ki characters a cell) would refuse items under the limit;
        # it is process-wide, so it is only ever raised. Rows are bounded by `_row_lines`.
        if csv.field_size_limit() < self.limits.max_item_bytes:
            csv.field_size_limit(self.limits.max_item_bytes)
        row_bytes = [0]
        with self.path.open("rb") as f:
            lines = _decoded_lines(self._row_lines(f, row_bytes), pending)
            reader = csv.reader(lines, delimiter=delimiter, strict=True)
            too_large = self.limits.item_too_large("row")
            try:
                header = next(reader)
            except StopIteration:
                yield Where(line=1), Where(line=1).problem("the file is empty")
                return
            except csv.Error as e:
                yield Where(line=1), Where(line=1).problem(f"unreadable CSV header: {e}")
                return
            except _RowTooLarge:
                yield Where(line=1), Where(line=1).problem(too_large)
                return
            header_problem = _check_header(header)
            if header_problem is None and self.header_check is not None:
                header_problem = self.header_check(header)
            if header_problem:
                yield Where(line=1), Where(line=1).problem(header_problem)
                return
            line = reader.line_num
            while True:
                start = line + 1
                row_bytes[0] = 0
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as e:
                    yield Where(line=start), Where(line=start).problem(f"unreadable CSV: {e}")
                    return
                except _RowTooLarge:  # the reader cannot find the next row: stop here
                    yield Where(line=start), Where(line=start).problem(too_large)
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

    def _row_lines(self, f: BinaryIO, row_bytes: list[int]) -> Iterator[bytes]:
        """Lines for the csv module, which may join several into one row: `row_bytes` counts the
        row's bytes so far (the caller zeroes it per row), and a row over the limit stops here."""
        limit = self.limits.max_item_bytes + 1  # + 1: the last newline
        for raw in self._lines(f):
            if raw is None:
                raise _RowTooLarge
            row_bytes[0] += len(raw)
            if row_bytes[0] > limit:
                raise _RowTooLarge
            yield raw

    def _txt_folder(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        limit = self.limits.max_item_bytes
        for p in sorted(self.path.rglob("*.txt")):
            rel = p.relative_to(self.path).as_posix()
            with p.open("rb") as f:
                raw = _read_at_most(f, limit)
            self.bytes_read += limit + 1 if raw is None else len(raw)
            if raw is None:
                yield Where(file=rel), Where(file=rel).problem(self.limits.item_too_large("file"))
                continue
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
            item_limit, left = self.limits.max_item_bytes, self.limits.max_archive_bytes
            for m in members:
                self.bytes_read += m.compress_size
                where = Where(file=m.filename)
                limit = min(item_limit, left)
                try:
                    with archive.open(m) as f:
                        raw = _read_at_most(f, limit)
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                        RuntimeError, OSError) as e:
                    yield where, where.problem(f"cannot be read from the archive: {e}")
                    continue
                left -= limit + 1 if raw is None else len(raw)
                if raw is not None:
                    yield _txt_record(m.filename, raw)
                elif limit == item_limit:
                    yield where, where.problem(self.limits.item_too_large("file"))
                else:
                    yield where, where.problem(self.limits.archive_too_large())
                    return


class _RowTooLarge(Exception):
    pass


class _GuardedReader:
    """A file wrapper that counts the bytes ijson pulls through it and shows them to the guard
    first, so a record too deep or too large is refused before ijson builds it."""

    def __init__(self, f: BinaryIO, source: Source, guard: ArrayGuard) -> None:
        self.f = f
        self.source = source
        self.guard = guard

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.source.bytes_read += len(data)
        self.guard.scan(data)
        return data


def _read_at_most(f: IO[bytes], limit: int) -> bytes | None:
    """All of `f`, or None once it holds more than `limit` bytes (read no further than that)."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        piece = f.read(min(PIECE, limit + 1 - size))
        if not piece:
            return b"".join(parts)
        parts.append(piece)
        size += len(piece)
    return None


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
    dupes = sorted({shown(h) for h in names if names.count(h) > 1})
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
    return Where(file=name), TextFile(id=name[: -len(".txt")], text=text)
