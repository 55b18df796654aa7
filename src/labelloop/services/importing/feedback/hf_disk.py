"""Hugging Face `datasets` folders written by `save_to_disk`, read with pyarrow alone.

A `Dataset` folder holds `state.json` (its `_data_files`, in order), `dataset_info.json` and
`data-*.arrow` files in Arrow's IPC *stream* format; a `DatasetDict` folder holds
`dataset_dict.json` (`{"splits": [...]}`) and one such folder per split, of which one is imported
(`split`, by default `train`). The folder comes as itself (CLI) or in a zip (API), where it may sit
under one top folder. Each row is a record (importing/records.py maps it onto the schema, chat.py reads its
prompt and candidates); a problem names the Arrow file and the row, counted from 1 over the whole
split (row n is `dataset[n - 1]`). Rows are read a record batch at a time; in a zip the Arrow
files are inflated as they are read and count against the archive limit.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from labelloop.errors import Invalid, Problem
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.names import hf_root, unsafe_name
from labelloop.services.importing.readers import Where

DEFAULT_SPLIT = "train"
# Arrow types JSON cannot hold as they are: read as text (a time, a decimal number).
_AS_TEXT = (pa.types.is_temporal, pa.types.is_decimal)
_BYTES = (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_fixed_size_binary)


class _Folder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def size(self, name: str) -> int:
        return (self.root / name).stat().st_size

    def open(self, name: str) -> AbstractContextManager[IO[bytes]]:
        return (self.root / name).open("rb")


class _Zip:
    def __init__(self, archive: zipfile.ZipFile, prefix: str) -> None:
        self.archive = archive
        self.prefix = prefix

    def exists(self, name: str) -> bool:
        return self.prefix + name in self.archive.NameToInfo

    def size(self, name: str) -> int:
        return self.archive.getinfo(self.prefix + name).file_size

    def open(self, name: str) -> AbstractContextManager[IO[bytes]]:
        return self.archive.open(self.prefix + name)


class _Counted:
    """A file whose bytes are counted as pyarrow reads them, and stopped past the archive limit."""

    def __init__(self, f: IO[bytes], source: HFDataset, limit: int | None) -> None:
        self.f = f
        self.source = source
        self.limit = limit
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.source.bytes_read += len(data)
        if self.limit is not None and self.source.bytes_read > self.limit:
            raise _TooLarge
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


class _TooLarge(Exception):
    pass


class HFDataset:
    """Records of one split of a `save_to_disk` folder (or a zip of one)."""

    def __init__(self, path: Path, limits: ImportLimits | None = None, *, split: str | None = None) -> None:
        self.path = path
        self.limits = limits or ImportLimits()
        self.split = split
        self.bytes_read = 0
        self.total_bytes = 0

    def records(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        if self.path.is_dir():
            yield from self._split_records(_Folder(self.path), None)
            return
        try:
            archive = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as e:
            yield Where(), Where().problem(f"not a zip archive: {e}")
            return
        with archive:
            root = hf_root(archive.namelist())
            if root is None:
                yield Where(), Where().problem(_NOT_A_DATASET)
                return
            yield from self._split_records(_Zip(archive, root), self.limits.max_archive_bytes)

    def _split_records(
        self, store: _Folder | _Zip, limit: int | None
    ) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        try:
            prefix = self._choose_split(store)
            files = self._data_files(store, prefix)
        except Invalid as e:
            for p in e.problems:
                yield Where(file=p.file), p
            return
        self.total_bytes = sum(store.size(name) for name in files)
        row = 0
        for name in files:
            where = Where(file=name)
            try:
                with store.open(name) as raw:
                    for batch in pa.ipc.open_stream(_Counted(raw, self, limit)):
                        for record in _json_columns(batch).to_pylist():
                            row += 1
                            yield Where(record=row, file=name), record
            except _TooLarge:
                yield where, where.problem(self.limits.archive_too_large("Arrow files"))
                return
            except _ColumnProblem as e:
                yield where, where.problem(e.message, e.column)
                return
            except (pa.ArrowException, OSError, zipfile.BadZipFile, EOFError) as e:
                yield where, where.problem(f"not a readable Arrow stream (row {row + 1}): {e}")
                return

    def _choose_split(self, store: _Folder | _Zip) -> str:
        """The folder (as a prefix, '' or 'train/') of the split to import."""
        if store.exists("dataset_dict.json"):
            splits = _json_file(store, "dataset_dict.json").get("splits")
            if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits):
                raise _invalid("'splits' must be a list of split names", "dataset_dict.json")
            wanted = self.split or DEFAULT_SPLIT
            if wanted not in splits:
                raise Invalid("no such split", [Problem(
                    f"the dataset has no split {wanted!r} (splits: {', '.join(splits) or 'none'}); "
                    "choose one with the split option", file="dataset_dict.json", field="split")])
            if unsafe_name(wanted) or "/" in wanted:
                raise _invalid(f"the split name {wanted!r} is not a plain folder name", "dataset_dict.json")
            return wanted + "/"
        if not store.exists("state.json"):
            raise _invalid(_NOT_A_DATASET, None)
        saved = _json_file(store, "state.json").get("_split")
        if self.split is not None and saved is not None and saved != self.split:
            raise Invalid("no such split", [Problem(
                f"this folder holds one dataset, of split {saved!r}, not {self.split!r}",
                file="state.json", field="split")])
        return ""

    def _data_files(self, store: _Folder | _Zip, prefix: str) -> list[str]:
        state_name = prefix + "state.json"
        if not store.exists(state_name):
            raise _invalid("the split has no state.json, which lists its Arrow files", state_name)
        entries = _json_file(store, state_name).get("_data_files")
        if not isinstance(entries, list) or not entries:
            raise _invalid("'_data_files' must list the split's Arrow files", state_name)
        files: list[str] = []
        for i, entry in enumerate(entries):
            name = entry.get("filename") if isinstance(entry, dict) else None
            if not isinstance(name, str) or "/" in name or unsafe_name(name) or not name.endswith(".arrow"):
                raise _invalid(f"_data_files[{i}] must name an .arrow file in the same folder", state_name)
            if not store.exists(prefix + name):
                raise _invalid(f"_data_files[{i}] names {name!r}, which is not there", state_name)
            files.append(prefix + name)
        return files


_NOT_A_DATASET = ("not a Hugging Face dataset folder: it needs state.json (one dataset) or "
                  "dataset_dict.json (a dataset with splits), as save_to_disk writes them")


def _invalid(message: str, file: str | None) -> Invalid:
    return Invalid("not a readable Hugging Face dataset", [Problem(message, file=file)])


def _json_file(store: _Folder | _Zip, name: str) -> dict[str, Any]:
    try:
        with store.open(name) as f:
            raw = f.read(1 << 20)
        doc = json.loads(raw)
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise _invalid(f"not readable JSON: {e}", name) from e
    if not isinstance(doc, dict):
        raise _invalid("expected a JSON object", name)
    return doc


class _ColumnProblem(Exception):
    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def _json_columns(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with times and decimals as text; a column of bytes (an image or audio feature)
    is refused, since an item holds references to files, never their bytes."""
    arrays = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if _holds(field.type, _BYTES):
            raise _ColumnProblem(
                "holds bytes (an Image or Audio feature?), which an item cannot hold; drop or "
                "convert the column before saving", field.name)
        if any(test(field.type) for test in _AS_TEXT):
            column = column.cast(pa.string())
        elif _holds(field.type, _AS_TEXT):
            raise _ColumnProblem("holds times or decimals inside lists or structs; convert them to "
                                 "text before saving", field.name)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _holds(t: pa.DataType, tests: tuple[Any, ...]) -> bool:
    """Whether the type is, or nests, one that a test accepts."""
    if any(test(t) for test in tests):
        return True
    return any(_holds(t.field(i).type, tests) for i in range(t.num_fields))

