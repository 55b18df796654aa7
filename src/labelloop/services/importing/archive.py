"""Zip archives and folders of images and audio: each file one item, or the files a records file
names.

Two layouts, told apart by the archive's top level:
- **media only**: every file is an image or audio file and becomes one item, its id the file's
  path in the archive (`photos/cat.jpg`), the schema's first image (or audio) field `blob:<sha256>`.
- **one records file at the top** (`.jsonl`, `.csv`, `.tsv` or `.json`) **and the files it
  names**: a record's image and audio fields hold paths from the archive's top (`photos/cat.jpg`, or
  `./photos/cat.jpg`), replaced by `blob:<sha256>` once the image is stored; URLs and `blob:`
  references are kept as they are, and every other key works as in any import. Images that no
  record names are not imported.

Refused, each problem naming the file: a name that could leave the archive (`../`, an absolute
path or a drive, a backslash, an empty or `.` part), a symbolic link, a name twice, a file that
is neither image nor audio (first layout), more than one records file. Skipped: folders, `__MACOSX/`, hidden
files (a part starting with `.`, such as `.DS_Store`), `Thumbs.db` and `desktop.ini`. Sizes are
counted while each file is inflated: `LABELLOOP_MAX_IMAGE_BYTES` per image,
`LABELLOOP_MAX_AUDIO_BYTES` per audio file, and `LABELLOOP_MAX_ARCHIVE_BYTES` for the files read
in all. Audio files are probed and decoded once (importing/audio/files.py, docs/audio.md).

Videos (docs/video.md) go to the schema's video fields: a video file (`.mp4` goes to audio when
the schema has an audio field and the file holds no video stream), or an image sequence: in the
first layout each folder of images under a top folder `sequences/` (`sequences/clip7`, the item's
id), in the second a record's video field naming a folder (`clip7/`), at the record's `fps`
(default 25). Each is probed and decoded once (importing/video/, `LABELLOOP_MAX_VIDEO_BYTES`).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import IO, Any

from labelloop.errors import Problem
from labelloop.services.blobs import REFERENCE_PREFIX, StoredImage, StoredMedia, StoredVideo
from labelloop.services.importing.audio.files import ACCEPTED_TEXT as AUDIO_TEXT
from labelloop.services.importing.audio.files import KnownAudioFn, NotAudio, store_audio
from labelloop.services.importing.images.files import ACCEPTED_TEXT, KnownFn, NotAnImage, store_image
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.names import (
    AUDIO_SUFFIXES,
    IMAGE_SUFFIXES,
    RECORD_SUFFIXES,
    VIDEO_SUFFIXES,
    is_junk,
    suffix,
    unsafe_name,
)
from labelloop.services.importing.readers import (
    AudioFile,
    ImageFile,
    Source,
    StoredRecord,
    VideoFile,
    Where,
    detect_format,
    shown,
)
from labelloop.services.importing.video import media as video_media
from labelloop.store.blobs import BlobStore, TooLarge

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)
_CACHED = 4096  # images stored by name, for records that name one image more than once


@dataclass(frozen=True)
class Member:
    name: str
    packed: int  # bytes of the input it takes (for progress)
    open: Callable[[], IO[bytes]]
    problem: str | None = None


def _open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    return archive.open(info)


def _open_file(path: Path) -> IO[bytes]:
    return path.open("rb")


def _zip_members(archive: zipfile.ZipFile) -> list[Member]:
    infos = [m for m in archive.infolist() if not m.is_dir() and not is_junk(m.filename)]
    counts = Counter(m.filename for m in infos)
    out: list[Member] = []
    seen: set[str] = set()
    for info in sorted(infos, key=lambda m: m.filename):
        name = info.filename
        if name in seen:
            continue
        seen.add(name)
        problem = unsafe_name(name)
        if problem is None and counts[name] > 1:
            problem = f"the archive holds {counts[name]} files of this name"
        if problem is None and stat.S_ISLNK(info.external_attr >> 16):
            problem = "a symbolic link: put the file itself in the archive"
        out.append(Member(name, info.compress_size, partial(_open_member, archive, info), problem))
    return out


def _folder_members(root: Path) -> list[Member]:
    out: list[Member] = []
    for folder, dirs, files in os.walk(root):  # links to folders are listed, never followed
        base = Path(folder)
        for entry in [*dirs, *files]:
            full = base / entry
            name = full.relative_to(root).as_posix()
            if is_junk(name):
                continue
            if full.is_symlink():
                out.append(Member(name, 0, partial(_open_file, full), "a symbolic link: copy the file"))
            elif entry in files:
                out.append(Member(name, full.stat().st_size, partial(_open_file, full)))
        dirs[:] = [d for d in dirs if not (base / d).is_symlink() and not is_junk(d)]
    return sorted(out, key=lambda m: m.name)


class ImageArchive:
    """A record source (like `readers.Source`) over a zip or folder of images."""

    def __init__(
        self, path: Path, store: BlobStore, limits: ImportLimits | None = None, *,
        image_fields: tuple[str, ...] = (), known: KnownFn | None = None,
        header_check: Callable[[list[str]], str | None] | None = None,
        audio_fields: tuple[str, ...] = (), known_audio: KnownAudioFn | None = None,
        video_fields: tuple[str, ...] = (), known_video: video_media.KnownVideoFn | None = None,
    ) -> None:
        self.path = path
        self.store = store
        self.limits = limits or ImportLimits()
        self.image_fields = image_fields
        self.audio_fields = audio_fields
        self.video_fields = video_fields
        self.known_video = known_video
        self._folders: dict[str, list[Member]] | None = None
        self.known = known
        self.known_audio = known_audio
        self.header_check = header_check
        self.bytes_read = 0
        self.total_bytes = path.stat().st_size if path.is_file() else 0
        self._left = self.limits.max_archive_bytes
        self._stored: dict[str, StoredMedia | Problem] = {}
        self._stop = False
        names = self._names()
        tables = sorted(n for n in names if "/" not in n and suffix(n) in RECORD_SUFFIXES and not is_junk(n))
        self.records_files = tables
        self.records_format: str | None = None
        if len(tables) == 1:
            kind = suffix(tables[0])[1:]
            self.records_format = "jsonl" if kind == "ndjson" else kind

    def _names(self) -> list[str]:
        if self.path.is_dir():
            return [m.name for m in _folder_members(self.path)]
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return []

    def records(self) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        if self.path.is_dir():
            members = _folder_members(self.path)
            self.total_bytes = sum(m.packed for m in members)
            yield from self._records(members)
            return
        try:
            archive = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as e:
            yield Where(), Where().problem(f"not a zip archive: {e}")
            return
        with archive:
            yield from self._records(_zip_members(archive))

    def _records(self, members: list[Member]) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        if len(self.records_files) > 1:
            listed = ", ".join(shown(n) for n in self.records_files[:10])
            yield Where(), Where().problem(
                f"the archive holds more than one records file ({listed}); keep one")
            return
        if self.records_format is None:
            yield from self._image_files(members)
        else:
            yield from self._named_images(members)

    def _image_files(self, members: list[Member]) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        members, sequences = video_media.split_sequences(members)
        for m in members:
            if self._stop:
                return
            where = Where(file=m.name)
            self.bytes_read += m.packed
            if m.problem is not None:
                yield where, where.problem(m.problem)
            elif self._is_video(m):
                video = self._store_video(m)
                yield where, video if isinstance(video, Problem) else VideoFile(
                    {"id": m.name, "blob": video.reference}, (video,))
            elif suffix(m.name) == ".svg":
                yield where, where.problem("an SVG image: vector images can carry scripts; convert it to PNG")
            elif suffix(m.name) in VIDEO_SUFFIXES and not self.video_fields \
                    and (suffix(m.name) not in AUDIO_SUFFIXES or not self.audio_fields):
                yield where, where.problem("the schema has no video field to put a video in")
            elif suffix(m.name) not in IMAGE_SUFFIXES | AUDIO_SUFFIXES:
                yield where, where.problem(self._not_media())
            elif suffix(m.name) in AUDIO_SUFFIXES and not self.audio_fields:
                # Said before decoding an hour of audio for nothing.
                yield where, where.problem("the schema has no audio field to put an audio file in")
            else:
                stored = self._store_media(m)
                if isinstance(stored, Problem):
                    yield where, stored
                else:
                    kind = ImageFile if suffix(m.name) in IMAGE_SUFFIXES else AudioFile
                    yield where, kind({"id": m.name, "blob": stored.reference}, (stored,))
        for folder, frames in sequences:
            if self._stop:
                return
            self.bytes_read += sum(m.packed for m in frames)
            found = self._store_sequence(folder, frames, None)
            if isinstance(found, list):
                for problem in found:
                    yield Where(file=problem.file), problem
            else:
                yield Where(file=folder), VideoFile({"id": folder, "blob": found.reference}, (found,))

    def _named_images(self, members: list[Member]) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        by_name = {m.name: m for m in members}
        table = by_name[self.records_files[0]]
        for m in members:
            if m.problem is not None:
                yield Where(file=m.name), Where(file=m.name).problem(m.problem)
        records_path = self._records_path(table)
        if isinstance(records_path, Problem):
            yield Where(file=table.name), records_path
            return
        try:
            assert self.records_format is not None
            source = Source(records_path[0], self.records_format, self.limits, header_check=self.header_check)
            for where, record in source.records():
                where = replace(where, file=table.name)
                self.bytes_read = min(source.bytes_read, self.total_bytes)
                if isinstance(record, Problem):
                    yield where, replace(record, file=table.name)
                    continue
                found = self._with_images(where, record, by_name)
                if isinstance(found, list):
                    for problem in found:
                        yield where, problem
                else:
                    yield where, found
                if self._stop:
                    return
        finally:
            if records_path[1]:
                records_path[0].unlink(missing_ok=True)

    def _records_path(self, table: Member) -> tuple[Path, bool] | Problem:
        """The records file on disk: the folder's own, or a temporary copy out of the zip."""
        where = Where(file=table.name)
        if table.problem is not None:
            return where.problem(table.problem)
        if self.path.is_dir():
            return self.path / table.name, False
        fd, name = tempfile.mkstemp(suffix=suffix(table.name))
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out, table.open() as f:
                while piece := f.read(min(1 << 20, self._left + 1)):
                    self._left -= len(piece)
                    if self._left < 0:
                        path.unlink(missing_ok=True)
                        return where.problem(self.limits.archive_too_large("files"))
                    out.write(piece)
        except _READ_ERRORS as e:
            path.unlink(missing_ok=True)
            return where.problem(f"cannot be read from the archive: {e}")
        if self.records_format == "json":  # a .json file holds an array or JSON lines
            self.records_format = detect_format(path)
        return path, True

    def _with_images(
        self, where: Where, record: dict[str, Any], by_name: dict[str, Member]
    ) -> StoredRecord | list[Problem]:
        images: list[StoredMedia] = []
        problems: list[Problem] = []
        values = dict(record)
        for field in (*self.image_fields, *self.audio_fields, *self.video_fields):
            kind = ("image" if field in self.image_fields
                    else "audio" if field in self.audio_fields else "video")
            value = values.get(field)
            if not isinstance(value, str) or not value.strip() or value.startswith(("/", REFERENCE_PREFIX)) \
                    or _SCHEME.match(value):
                continue  # no value, a URL, a path on this server or a stored blob: kept as it is
            name = value.strip()
            while name.startswith("./"):
                name = name[2:]
            if kind == "video":
                found = self._named_video(where, field, name, record, by_name)
                if isinstance(found, list):
                    problems.extend(found)
                    if self._stop:
                        break
                else:
                    values[field] = found.reference
                    images.append(found)
                continue
            member = by_name.get(name)
            if unsafe_name(name) is not None or member is None or member.name == self.records_files[0]:
                problems.append(where.problem(f"no {kind} {shown(value)!r} in the archive", field))
                continue
            if suffix(name) in (AUDIO_SUFFIXES if kind == "image" else IMAGE_SUFFIXES):
                problems.append(where.problem(f"{shown(name)} is not an {kind} file", field))
                continue
            stored = self._stored.get(name)
            if stored is None:
                stored = self._store_media(member)
                if len(self._stored) >= _CACHED:
                    self._stored.pop(next(iter(self._stored)))
                self._stored[name] = stored
            if isinstance(stored, Problem):
                problems.append(replace(stored, line=where.line, record=where.record, field=field,
                                        message=f"{shown(name)}: {stored.message}"))
                if self._stop:
                    break
                continue
            values[field] = stored.reference
            images.append(stored)
        return problems or StoredRecord(values, tuple(images))

    def _is_video(self, m: Member) -> bool:
        """Whether a file of the first layout is a video (an .mp4 of an audio schema is audio)."""
        if suffix(m.name) not in VIDEO_SUFFIXES or not self.video_fields:
            return False
        return (suffix(m.name) not in AUDIO_SUFFIXES or not self.audio_fields
                or video_media.member_holds_video(m))

    def _store_video(self, m: Member) -> StoredVideo | Problem:
        limit = min(self.limits.max_video_bytes, self._left)
        found = video_media.store_member(self.store, m, self.limits, limit, self.known_video)
        if isinstance(found, Problem):
            if found.message == video_media.TOO_LARGE and limit < self.limits.max_video_bytes:
                self._stop = True
                return replace(found, message=self.limits.archive_too_large("files"))
            return replace(found, message=self.limits.video_too_large()) \
                if found.message == video_media.TOO_LARGE else found
        self._left -= found.original.size
        return found

    def _store_sequence(self, folder: str, frames: list[Member], fps: Any) -> StoredVideo | list[Problem]:
        found = video_media.store_folder(self.store, folder, frames, fps, self.limits, self._left)
        if not isinstance(found, list):
            self._left -= sum(m.packed for m in frames)
        return found

    def _named_video(self, where: Where, field: str, name: str, record: dict[str, Any],
                     by_name: dict[str, Member]) -> StoredVideo | list[Problem]:
        """A record's video: the file it names, or the folder of frames it names."""
        member = by_name.get(name)
        if member is not None and unsafe_name(name) is None and member.name != self.records_files[0]:
            if suffix(name) not in VIDEO_SUFFIXES:
                return [where.problem(f"{shown(name)} is not a video file (or a folder of frames)", field)]
            stored = self._stored.get(name)
            if stored is None:
                stored = self._store_video(member)
                self._stored[name] = stored
            if isinstance(stored, Problem):
                return [replace(stored, line=where.line, record=where.record, field=field,
                                message=f"{shown(name)}: {stored.message}")]
            assert isinstance(stored, StoredVideo)
            return stored
        folder = name.rstrip("/")
        if self._folders is None:  # once per archive: the files of each folder
            self._folders = {}
            for m in by_name.values():
                if "/" in m.name:
                    self._folders.setdefault(m.name.rsplit("/", 1)[0], []).append(m)
        frames = self._folders.get(folder, [])
        if not folder or unsafe_name(folder) is not None or not frames:
            return [where.problem(f"no video or folder of frames {shown(name)!r} in the archive", field)]
        key = f"{folder}/@{record.get('fps')}"  # one folder named twice at one rate is one video
        cached = self._stored.get(key)
        if isinstance(cached, StoredVideo):
            return cached
        found = self._store_sequence(folder, frames, record.get("fps"))
        if isinstance(found, list):
            return [replace(p, line=where.line, record=where.record, field=p.field or field) for p in found]
        self._stored[key] = found
        return found

    def _not_media(self) -> str:
        """What a file of the wrong kind is told, in the terms of the schema's media fields."""
        if self.audio_fields and not self.image_fields:
            return f"not an audio file (accepted: {AUDIO_TEXT})"
        if self.audio_fields:
            return f"not an image or audio file (accepted: {ACCEPTED_TEXT}; {AUDIO_TEXT})"
        return f"not an image file (accepted: {ACCEPTED_TEXT})"

    def _store_media(self, m: Member) -> StoredMedia | Problem:
        """An image or audio file stored, by its name's suffix."""
        if m.problem is None and suffix(m.name) in AUDIO_SUFFIXES:
            return self._store_audio(m, Where(file=m.name))
        return self._store(m)

    def _store(self, m: Member) -> StoredImage | Problem:
        where = Where(file=m.name)
        if m.problem is not None:
            return where.problem(m.problem)
        if suffix(m.name) not in IMAGE_SUFFIXES:
            return where.problem(self._not_media())
        image_limit = self.limits.max_image_bytes
        limit = min(image_limit, self._left)
        try:
            with m.open() as f:
                stored = store_image(self.store, f, limit=limit, known=self.known)
        except TooLarge:
            if limit == image_limit:
                return where.problem(self.limits.image_too_large())
            self._stop = True
            return where.problem(self.limits.archive_too_large("files"))
        except NotAnImage as e:
            return where.problem(str(e))
        except _READ_ERRORS as e:
            return where.problem(f"cannot be read from the archive: {e}")
        self._left -= stored.original.size
        return stored

    def _store_audio(self, m: Member, where: Where) -> StoredMedia | Problem:
        audio_limit = self.limits.max_audio_bytes
        limit = min(audio_limit, self._left)
        try:
            with m.open() as f:
                stored = store_audio(self.store, f, limit=limit, max_seconds=self.limits.max_audio_seconds,
                                     known=self.known_audio)
        except TooLarge:
            if limit == audio_limit:
                return where.problem(self.limits.audio_too_large())
            self._stop = True
            return where.problem(self.limits.archive_too_large("files"))
        except NotAudio as e:
            return where.problem(str(e))
        except _READ_ERRORS as e:
            return where.problem(f"cannot be read from the archive: {e}")
        self._left -= stored.original.size
        return stored
