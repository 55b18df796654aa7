"""Properties of the audio formats' times and cue text, without a server: every millisecond time
writes and reads back exactly in each format; SRT and WebVTT cue text comes back as written (blank
lines left out, SRT's `-->` made `->`), as our reader and independent ones (`srt`, `webvtt-py`)
read it; WebVTT's escaping leaves no `<`, `&` or `-->` unescaped."""

from __future__ import annotations

import html
import io
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import srt
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.schema import parse_schema
from labelloop.services.exporting.audio import subtitles as out
from labelloop.services.exporting.audio.plan import AudioPlan, Clip, audio_plan
from labelloop.services.exporting.audio.timecodes import (
    clock,
    cue_lines,
    decimal,
    parse_clock,
    parse_decimal,
    read_vtt_text,
    srt_text,
    vtt_text,
)
from labelloop.services.importing.annotated import DatasetOptions
from labelloop.services.importing.audio import subtitles as back
from labelloop.services.importing.audio.datasets import AudioDatasetArchive, RawSegment
from labelloop.store.blobs import LocalBlobStore

HOURS_4 = 4 * 3600 * 1000
millis = st.integers(0, 30 * HOURS_4)  # beyond two hour digits too
# Text a person types: any printable character, line breaks (CR, LF, CRLF), tabs, markup-like runs.
texts = st.lists(st.one_of(st.characters(blacklist_categories=("Cs", "Cc")),
                           st.sampled_from(["\n", "\r", "\r\n", "\t", " ", "<", ">", "&", "-->", "&amp;", "<v x>"])),
                 max_size=30).map("".join)


def _independent_clock(ms: int, sep: str) -> str:
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


@given(millis)
def test_every_millisecond_time_writes_and_reads_back_exactly(ms: int) -> None:
    seconds = ms / 1000
    assert clock(seconds, ",") == _independent_clock(ms, ",")
    assert clock(seconds, ".") == _independent_clock(ms, ".")
    assert parse_clock(clock(seconds, ","), "srt") == seconds
    assert parse_clock(clock(seconds, "."), "webvtt") == seconds
    assert parse_decimal(decimal(seconds)) == seconds
    assert decimal(seconds) == f"{ms // 1000}.{ms % 1000:03d}"
    # A stored time is a float rounded to the millisecond: it too writes its own milliseconds.
    assert clock(round(seconds, 3), ".") == clock(seconds, ".")


@given(st.integers(0, 59), st.integers(0, 59), st.integers(0, 999))
def test_webvtt_reads_times_without_hours(m: int, s: int, milli: int) -> None:
    assert parse_clock(f"{m:02d}:{s:02d}.{milli:03d}", "webvtt") == (m * 60_000 + s * 1000 + milli) / 1000


def test_bad_timestamps_are_refused_saying_the_shape() -> None:
    for text, fmt in [("00:00:01.000", "srt"), ("00:00:01,000", "webvtt"), ("0:00:01,000", "srt"),
                      ("00:60:00,000", "srt"), ("00:00:61.000", "webvtt"), ("00:00:01,00", "srt"),
                      ("1:02.003", "webvtt"), ("-00:00:01,000", "srt"), ("", "srt")]:
        try:
            parse_clock(text, fmt)
        except ValueError as e:
            assert "is not a timestamp" in str(e)
        else:
            raise AssertionError(f"{text!r} read as a {fmt} time")
    for text in ["-1", "1e3", "nan", "inf", "1.", ".5", "0x10", ""]:
        try:
            parse_decimal(text)
        except ValueError as e:
            assert "is not a number of seconds" in str(e)
        else:
            raise AssertionError(f"{text!r} read as seconds")


@given(texts)
def test_cue_text_has_no_blank_line_and_webvtt_escapes_what_it_must(text: str) -> None:
    lines = cue_lines(text)
    assert "\r" not in lines and all(line.strip(" \t") for line in lines.split("\n") if lines)
    assert "-->" not in srt_text(text)
    escaped = vtt_text(text)
    assert "-->" not in escaped and "<" not in escaped and ">" not in escaped
    assert re.search(r"&(?!amp;|lt;|gt;)", escaped) is None
    assert read_vtt_text(escaped) == (None, lines)
    assert read_vtt_text(out.vtt_voice("spk <a> & b") + escaped) == ("spk <a> & b", lines)


# -- whole files, our reader against independent ones ---------------------------------------------

def _plan(fmt: str, labels: list[str], transcript: bool = True) -> AudioPlan:
    schema = parse_schema({"fields": [{"name": "clip", "type": "audio"}],
                           "questions": [{"name": "turns", "type": "audio_segments", "target": "clip",
                                          "labels": labels, "transcript": transcript, "allow_overlap": True}]})
    return audio_plan(schema, fmt, None, "consensus", "include")


def _archive(plan: AudioPlan) -> AudioDatasetArchive:
    folder = Path(tempfile.mkdtemp())
    schema = parse_schema({"fields": [{"name": "clip", "type": "audio"}],
                           "questions": [plan.question.spec.model_dump()]})
    return AudioDatasetArchive(folder, LocalBlobStore(folder / "blobs"), None, fmt=plan.format,
                               reader=back.srt_entries, schema=schema, options=DatasetOptions())


cues = st.lists(st.tuples(st.integers(0, HOURS_4), st.integers(1, 60_000), st.sampled_from(["spk_a", "spk b&<"]),
                          texts), max_size=6)


def _segments(drawn: list[tuple[int, int, str, str]]) -> list[dict[str, Any]]:
    found = [{"start": s / 1000, "end": (s + d) / 1000, "label": label, "text": text} for s, d, label, text in drawn]
    return sorted(found, key=lambda x: (x["start"], x["end"]))


def _clip(segments: list[dict[str, Any]]) -> Clip:
    return Clip(1, "a.wav", "a.wav", "blob:" + "0" * 64, "0" * 64, "audio/wav", 99.0, [(None, s) for s in segments])


def _read(plan: AudioPlan, fmt: str, body: bytes) -> list[RawSegment]:
    reader = back._srt if fmt == "srt" else back._vtt
    found = list(reader(_archive(plan), "a" + out.SUFFIX[fmt], body.decode()))
    assert all(isinstance(f, RawSegment) for f in found), found
    return found  # type: ignore[return-value]


@settings(max_examples=60, deadline=None)
@given(cues)
def test_srt_files_read_back_the_same_here_and_in_the_srt_package(drawn: list[tuple[int, int, str, str]]) -> None:
    plan = _plan("srt", ["speech"])
    segments = _segments([(s, d, "speech", t) for s, d, _, t in drawn])
    body = out.srt_file(plan, _clip(segments))
    ours = _read(plan, "srt", body)
    theirs = list(srt.parse(body.decode()))
    assert len(ours) == len(theirs) == len(segments)
    for seg, mine, other in zip(segments, ours, theirs, strict=True):
        expected = srt_text(seg["text"])
        assert (mine.start, mine.end, mine.text) == (seg["start"], seg["end"], expected)
        assert other.start == timedelta(milliseconds=round(seg["start"] * 1000))
        assert other.end == timedelta(milliseconds=round(seg["end"] * 1000))
        assert other.content == expected


@settings(max_examples=60, deadline=None)
@given(cues)
def test_webvtt_files_read_back_the_same_here_and_in_webvtt_py(drawn: list[tuple[int, int, str, str]]) -> None:
    plan = _plan("webvtt", ["spk_a", "spk b&<"])
    segments = _segments(drawn)
    body = out.vtt_file(plan, _clip(segments))
    assert body.startswith(b"WEBVTT\n\n") or body == b"WEBVTT\n"
    ours = _read(plan, "webvtt", body)
    theirs = list(webvtt.from_buffer(io.StringIO(body.decode())))
    assert len(ours) == len(theirs) == len(segments)
    for seg, mine, other in zip(segments, ours, theirs, strict=True):
        assert (mine.start, mine.end, mine.label, mine.text) == (seg["start"], seg["end"], seg["label"],
                                                                 cue_lines(seg["text"]))
        assert other.start == _independent_clock(round(seg["start"] * 1000), ".")
        assert other.end == _independent_clock(round(seg["end"] * 1000), ".")
        assert html.unescape(other.voice) == seg["label"]
        assert html.unescape(other.text) == cue_lines(seg["text"])
