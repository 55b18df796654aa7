"""RTTM (NIST's Rich Transcription Time Marked format, as pyannote and the DIHARD and VoxConverse
sets write it) for speaker segments: one file per audio item, named after it with `.rttm`.

One `SPEAKER` line per segment, ten fields separated by single spaces:

    SPEAKER <file-id> 1 <start> <duration> <NA> <NA> <label> <NA> <NA>

`file-id` is the audio file's name without folder or suffix (whitespace made `_`), the channel 1,
`start` and `duration` seconds with three decimals (the duration computed in whole milliseconds,
so start + duration is the segment's end exactly), `label` the segment's class. Transcripts and
attributes have no place in RTTM and are not written.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from labelloop.services.exporting.audio.plan import Clip
from labelloop.services.exporting.audio.timecodes import decimal, milliseconds

SUFFIX = ".rttm"
_SPACE = re.compile(r"\s+")


def file_id(name: str) -> str:
    return _SPACE.sub("_", PurePosixPath(name).stem) or "audio"


def rttm_file(clip: Clip) -> bytes:
    fid = file_id(clip.name)
    lines = []
    for _, s in clip.segments:
        length = (milliseconds(s["end"]) - milliseconds(s["start"])) / 1000
        lines.append(f"SPEAKER {fid} 1 {decimal(s['start'])} {decimal(length)} <NA> <NA> {s['label']} "
                     "<NA> <NA>\n")
    return "".join(lines).encode()
