"""Subtitle files from segments: SRT and WebVTT, one file per audio item (docs/audio.md, "Formats").

A cue per segment, in the stored order (by start, then end). Its text is the segment's transcript
when the question has `transcript: true` (an untyped one is empty), else the segment's class, so
sound events read as captions ("music"). Times as `timecodes.py` writes them: SRT
`HH:MM:SS,mmm --> HH:MM:SS,mmm` after the cue's number from 1, WebVTT `HH:MM:SS.mmm --> ...` after
the `WEBVTT` header, text escaped as each format needs. SRT has no place for the class of a
transcribed segment; WebVTT names it as the cue's voice (`<v spk_a>hello`) when the question has
more than one label (with one, every segment has it anyway).
"""

from __future__ import annotations

from typing import Any

from labelloop.services.exporting.audio.plan import AudioPlan, Clip
from labelloop.services.exporting.audio.timecodes import clock, srt_text, vtt_text, vtt_voice

SUFFIX = {"srt": ".srt", "webvtt": ".vtt"}


def cue_text(plan: AudioPlan, segment: dict[str, Any]) -> str:
    """What a cue says: the transcript, or for a question without one the class."""
    if plan.question.spec.transcript:  # type: ignore[attr-defined]
        return str(segment.get("text") or "")
    return str(segment["label"])


def with_voice(plan: AudioPlan) -> bool:
    spec: Any = plan.question.spec
    return bool(spec.transcript) and len(spec.values) > 1


def srt_file(plan: AudioPlan, clip: Clip) -> bytes:
    blocks = []
    for n, (_, s) in enumerate(clip.segments, 1):
        text = srt_text(cue_text(plan, s))
        timing = f"{clock(s['start'], ',')} --> {clock(s['end'], ',')}"
        blocks.append(f"{n}\n{timing}\n" + (text + "\n" if text else ""))
    return "\n".join(blocks).encode()


def vtt_file(plan: AudioPlan, clip: Clip) -> bytes:
    out = "WEBVTT\n"
    voice = with_voice(plan)
    for _, s in clip.segments:
        text = vtt_text(cue_text(plan, s))
        if voice:
            text = vtt_voice(s["label"]) + text
        out += f"\n{clock(s['start'], '.')} --> {clock(s['end'], '.')}\n" + (text + "\n" if text else "")
    return out.encode()
