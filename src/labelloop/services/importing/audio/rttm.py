"""RTTM files beside their audio files (`calls/07.wav`, `calls/07.rttm`): speaker segments
(docs/audio.md, "Formats"), the inverse of `services/exporting/audio/rttm.py`.

Each line `SPEAKER <file-id> <channel> <start> <duration> <ortho> <stype> <name> <conf> <slat>`,
fields separated by spaces or tabs (ten, or nine without the last, as some tools write); `;;`
starts a comment. `start` and `duration` are seconds (read to the millisecond; the segment ends at
start + duration), `name` a label of the question. One file holds one recording: every line has
the same file-id. Transcripts are not in RTTM: imported segments have none.
"""

from __future__ import annotations

from collections.abc import Iterator

from labelloop.errors import Problem
from labelloop.services.exporting.audio.timecodes import parse_decimal
from labelloop.services.importing.audio.datasets import AudioDatasetArchive, RawSegment
from labelloop.services.importing.readers import Where, shown


def segments(archive: AudioDatasetArchive, file: str, text: str) -> Iterator[RawSegment | Problem]:
    file_id: str | None = None
    for n, line in enumerate(text.split("\n"), 1):
        where = Where(file=file, line=n)
        fields = line.split()
        if not fields or fields[0].startswith(";;"):
            continue
        if fields[0] != "SPEAKER":
            yield where.problem(f"only SPEAKER lines are read; got {shown(fields[0][:40])!r}", "type")
            continue
        if len(fields) not in (9, 10):
            yield where.problem(f"a SPEAKER line has 10 fields (type, file-id, channel, start, duration, "
                                f"ortho, stype, name, conf, slat); got {len(fields)}")
            continue
        if file_id is None:
            file_id = fields[1]
        elif fields[1] != file_id:
            yield where.problem(f"file-id {shown(fields[1])!r} after {shown(file_id)!r}: one RTTM file per "
                                "recording, beside its audio file", "file-id")
            continue
        try:
            start = parse_decimal(fields[3])
        except ValueError as e:
            yield where.problem(str(e), "start")
            continue
        try:
            duration = parse_decimal(fields[4])
        except ValueError as e:
            yield where.problem(str(e), "duration")
            continue
        label = archive.label(fields[7], where, "name", "speaker")
        if isinstance(label, Problem):
            yield label
            continue
        yield RawSegment(where, start, round(start + duration, 3), label, None)
