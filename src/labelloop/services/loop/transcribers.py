"""Speech models the loop pre-labels `audio_segments` questions with: Whisper built in, Silero VAD
built in, a team's own model over HTTP, or one installed as a Python entry point. All meet
`labelloop.learn.speech.Transcriber`.

The HTTP protocol (docs/loop.md, "Audio"): one request per file, `POST <url>/transcribe` whose body
is the audio file itself as the blob store keeps it (`Content-Type` its media type), with the query
`item` (the item's id), `ref` (`blob:<sha256>` of the file), `question` and `transcript` (`true`
when the question wants text). The answer is JSON,
`{"segments": [{"start": s, "end": s, "text": "..." | null, "words": [{"start", "end", "word"}] | null,
"score": 0..1}]}`, checked here for its shape (the place named: `segments[2].end`) and by the
`audio_segments` type against the file's duration where the job stores it. The file travels as bytes,
not base64 in JSON: an hour of WAV is 600 MB, streamed from the store without being read into memory.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from labelloop.errors import Invalid, Problem
from labelloop.learn.speech import AudioInput, SpeechSegment, Transcriber, Word
from labelloop.services.loop.models import _bad, _entry_point, post_json

FIELD = "loop.transcriber"
BUILT_IN = ("whisper", "vad")


def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise _bad("expected a finite number of seconds", where)
    return float(raw)


def _segment(raw: Any, where: str) -> SpeechSegment:
    if not isinstance(raw, dict):
        raise _bad('expected an object {"start", "end", "text", "words", "score"}', where)
    start, end = _number(raw.get("start"), f"{where}.start"), _number(raw.get("end"), f"{where}.end")
    if not 0 <= start < end:
        raise _bad(f"expected 0 <= start < end, got {start} to {end}", f"{where}.end")
    text, words, score = raw.get("text"), raw.get("words"), raw.get("score", 1.0)
    if text is not None and not isinstance(text, str):
        raise _bad("text must be a string or null", f"{where}.text")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise _bad("score must be a number in [0, 1]", f"{where}.score")
    if words is not None and not isinstance(words, list):
        raise _bad("words must be a list or null", f"{where}.words")
    parsed: list[Word] = []
    for j, w in enumerate(words or []):
        at = f"{where}.words[{j}]"
        if not isinstance(w, dict) or not isinstance(w.get("word"), str):
            raise _bad('a word is {"start": s, "end": s, "word": "..."}', at)
        parsed.append(Word(_number(w.get("start"), f"{at}.start"), _number(w.get("end"), f"{at}.end"),
                           w["word"]))
    return SpeechSegment(start, end, text, None if words is None else tuple(parsed), float(score))


class HttpTranscriber:
    """A team's own speech model behind `<url>/transcribe` (this module's docstring)."""

    def __init__(self, url: str, *, question: str | None = None, transcript: bool = True) -> None:
        self.url = url.rstrip("/")
        self.name = f"http:{self.url}"
        self.question = question
        self.transcript = transcript

    def transcribe(self, audio: AudioInput, *, item: str | None = None, ref: str | None = None,
                   media_type: str = "application/octet-stream") -> list[SpeechSegment]:
        params = {k: v for k, v in (("item", item), ("ref", ref), ("question", self.question),
                                    ("transcript", "true" if self.transcript else "false")) if v is not None}
        target = f"{self.url}/transcribe"
        if isinstance(audio, bytes | bytearray | memoryview):
            answer = post_json(target, FIELD, params=params, content=bytes(audio),
                               headers={"Content-Type": media_type})
        else:
            path = Path(os.fspath(audio))
            with path.open("rb") as f:  # streamed: never the whole file in memory
                answer = post_json(target, FIELD, params=params, content=f,
                                   headers={"Content-Type": media_type,
                                            "Content-Length": str(path.stat().st_size)})
        raw = answer.get("segments") if isinstance(answer, dict) else None
        if not isinstance(raw, list):
            raise _bad('expected {"segments": [...]}', "segments")
        return [_segment(s, f"segments[{i}]") for i, s in enumerate(raw)]


def transcriber_for(name: str, *, question: str | None = None, transcript: bool = True) -> Transcriber:
    """`whisper` (Whisper tiny.en, offline; on a question without transcripts, its Silero VAD
    alone), `vad` (Silero VAD alone), an http(s) URL, or python:<entry point in
    labelloop.transcribers>."""
    if name in BUILT_IN:
        from labelloop.learn.speech import VadSegmenter, WhisperTranscriber

        try:
            if name == "whisper" and transcript:
                return WhisperTranscriber()
            return VadSegmenter()
        except ImportError as e:
            raise Invalid("the built-in speech model is not installed",
                          [Problem(str(e), field=FIELD)]) from e
    if name.startswith(("http://", "https://")):
        return HttpTranscriber(name, question=question, transcript=transcript)
    if name.startswith("python:"):
        found: Transcriber = _entry_point("labelloop.transcribers", name.removeprefix("python:"), FIELD)
        return found
    raise Invalid("unknown transcriber",
                  [Problem("whisper, vad, an http(s) URL, or python:<name>", field=FIELD)])
