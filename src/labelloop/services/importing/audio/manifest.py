"""NeMo manifests with their audio files (docs/audio.md, "Formats"), the inverse of
`services/exporting/audio/manifest.py`.

One `.json` or `.jsonl` file at the archive's top other than `metadata.jsonl` (Hugging Face's
audiofolder metadata, which has no times and is not read): one JSON object per line, as NeMo
reads them. Per line:
- `audio_filepath` (required): the audio file's path in the archive (`audio/calls/07.wav`, or
  `./audio/...`); the item's id is that path without a leading `audio/`;
- `duration` (required, seconds > 0) and `offset` (seconds, default 0): the segment is `offset`
  to `offset + duration`, to the millisecond; a line without `offset` is the whole file when its
  duration is the file's;
- `text`: the transcript, for a question with `transcript: true` (none: the segment has none);
- `label`: the class, one of the question's labels (none: the question's first label).
Other keys (NeMo's `lang`, `pnc`, ..., our `annotator`) are not kept. Lines naming one file are
its segments; an audio file of the archive that no line names is an item without segments
("nothing here": the export writes no line for it). Each problem names the manifest's line and
field.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import orjson

from labelloop.errors import Problem
from labelloop.services.exporting.audio.manifest import AUDIO_DIR, METADATA
from labelloop.services.importing.archive import Member
from labelloop.services.importing.audio.datasets import AudioDatasetArchive, AudioEntry, RawSegment
from labelloop.services.importing.names import AUDIO_SUFFIXES, suffix, unsafe_name
from labelloop.services.importing.readers import Where, shown


def _seconds(raw: Any, where: Where, field: str, *, positive: bool) -> float | Problem:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return where.problem(f"expected a number of seconds, got {shown(str(raw)[:40])!r}", field)
    if raw < 0 or (positive and raw == 0):
        return where.problem(f"must be {'more than' if positive else 'at least'} 0 seconds, got {raw}", field)
    return round(float(raw), 3)


def _item_id(path: str) -> str:
    return path[len(AUDIO_DIR) + 1:] if path.startswith(AUDIO_DIR + "/") else path


def entries(archive: AudioDatasetArchive, by_name: dict[str, Member]) -> Iterator[AudioEntry | Problem]:
    found = sorted(n for n in by_name if "/" not in n and suffix(n) in (".json", ".jsonl") and n != METADATA)
    if len(found) != 1:
        listed = ", ".join(shown(n) for n in found[:5]) or "none"
        yield Problem(f"a NeMo archive holds one manifest (.json or .jsonl) at its top, one JSON object "
                      f"per line; found {listed}")
        return
    manifest = found[0]
    text = archive.text_of(by_name[manifest])
    if isinstance(text, Problem):
        yield text
        return
    files: dict[str, AudioEntry] = {}
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = Where(file=manifest, line=n)
        got = _line(archive, by_name, where, line)
        if isinstance(got, Problem):
            yield got
            continue
        path, segment = got
        entry = files.get(path)
        if entry is None:
            entry = files[path] = AudioEntry(path, _item_id(path), where, "audio_filepath", [])
        entry.segments.append(segment)
    if archive.attach:  # no audio files: the lines are for items already in the project
        yield from files.values()
        return
    # In name order, as a zip of audio files is imported; a file without segments has no line (a
    # manifest's lines are segments): "nothing here".
    for name in sorted(by_name):
        if suffix(name) in AUDIO_SUFFIXES:
            yield files.get(name) or AudioEntry(name, _item_id(name), Where(file=name), None, [])


def _line(
    archive: AudioDatasetArchive, by_name: dict[str, Member], where: Where, line: str
) -> tuple[str, RawSegment] | Problem:
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        return where.problem(f"not valid JSON: {e}")
    if not isinstance(doc, dict):
        return where.problem(f"expected a JSON object, got {type(doc).__name__}")
    path = doc.get("audio_filepath")
    if not isinstance(path, str) or not path.strip():
        return where.problem("missing: the audio file's path in the archive", "audio_filepath")
    path = path.strip()
    while path.startswith("./"):
        path = path[2:]
    if unsafe_name(path) is not None or (path not in by_name and not archive.attach):
        return where.problem(f"no audio file {shown(path)!r} in the archive", "audio_filepath")
    if "duration" not in doc:
        return where.problem("missing: the segment's length in seconds", "duration")
    duration = _seconds(doc["duration"], where, "duration", positive=True)
    offset = _seconds(doc.get("offset", 0), where, "offset", positive=False)
    if isinstance(duration, Problem):
        return duration
    if isinstance(offset, Problem):
        return offset
    label = doc.get("label", archive.spec.values[0])
    if not isinstance(label, str):
        return where.problem(f"expected a string, got {type(label).__name__}", "label")
    checked = archive.label(label, where, "label")
    if isinstance(checked, Problem):
        return checked
    text = doc.get("text")
    if text is not None and not isinstance(text, str):
        return where.problem(f"expected a string, got {type(text).__name__}", "text")
    return path, RawSegment(where, offset, round(offset + duration, 3), checked,
                            text if archive.transcript else None)
