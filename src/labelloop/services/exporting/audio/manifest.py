"""NeMo manifests (and Hugging Face's audiofolder metadata) from segments (docs/audio.md, "Formats").

`manifest.jsonl`: one JSON object per line and per segment, as NVIDIA NeMo's ASR, VAD and
speaker datasets read them:

    {"audio_filepath": "audio/calls/07.wav", "offset": 1.25, "duration": 2.25,
     "text": "hello there", "label": "speech"}

`audio_filepath` is the file's path in the archive (under `audio/`), `offset` the segment's start
and `duration` its length in seconds (computed in whole milliseconds, so offset + duration is the
end to the millisecond), `text` its transcript (left out when it has none: NeMo reads a missing
text as empty), `label` its class; with answers exported, `annotator` who marked it. One line per
segment, never per file: a file's segments are what a model trains on, and a whole file is one
segment from 0 to its length.

`metadata.jsonl`, for questions with transcripts and a single source (not answers): one line per
audio file, `{"file_name": "audio/calls/07.wav", "transcription": "..."}`, the words of the
segments' texts in time order joined by single spaces, as
`datasets.load_dataset("audiofolder", data_dir=...)` reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from labelloop.services.exporting.audio.plan import AudioPlan, Clip
from labelloop.services.exporting.audio.timecodes import milliseconds

MANIFEST = "manifest.jsonl"
METADATA = "metadata.jsonl"
AUDIO_DIR = "audio"


def audio_path(clip: Clip) -> str:
    return f"{AUDIO_DIR}/{clip.name}"


def manifest_lines(plan: AudioPlan, clip: Clip) -> bytes:
    transcript = bool(plan.question.spec.transcript)  # type: ignore[attr-defined]
    out = bytearray()
    for who, s in clip.segments:
        line: dict[str, Any] = {
            "audio_filepath": audio_path(clip), "offset": s["start"],
            "duration": (milliseconds(s["end"]) - milliseconds(s["start"])) / 1000,
        }
        if transcript and s.get("text") is not None:
            line["text"] = s["text"]
        line["label"] = s["label"]
        if who is not None:
            line["annotator"] = who
        out += orjson.dumps(line) + b"\n"
    return bytes(out)


def has_metadata(plan: AudioPlan) -> bool:
    return bool(plan.question.spec.transcript) and plan.source != "answers"  # type: ignore[attr-defined]


def metadata_lines(clips: Iterator[Clip]) -> Iterator[bytes]:
    for clip in clips:
        text = " ".join(word for _, s in clip.segments for word in (s.get("text") or "").split())
        yield orjson.dumps({"file_name": audio_path(clip), "transcription": text}) + b"\n"
