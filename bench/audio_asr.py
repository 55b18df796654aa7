"""Speech-to-text pre-labels: Whisper tiny.en (labelloop.learn.speech, faster-whisper, CPU int8, Silero
VAD) on speech of known text synthesised by espeak-ng.

``asr_figures()`` speaks 20 varied English sentences (questions, numbers, names, long and short ones;
about 2.5 minutes in all) with espeak-ng at a speaking rate and pitch drawn from a fixed seed, each
between stretches of silence of random length, transcribes every file as the pre-label job does
(one file at a time, word timings on), and returns:

- ``asr_wer_espeak``: corpus WER (errors pooled over files / reference words, after
  labelloop.quality.texts' normalisation: lower case, punctuation removed, hyphens split). The
  sentences hold no numbers above three: Whisper writes "9.30" for "nine thirty", a difference of
  notation that the normalisation does not undo and that says nothing about recognition;
- ``asr_realtime_factor``: seconds of audio transcribed per second of wall time (the model loaded
  once beforehand; ``asr_load_s`` is that load);
- ``asr_audio_s``: seconds of audio in all (silence included); ``asr_speech_s`` without the padding.

The lead wires it into bench/audio.py; ``python bench/audio_asr.py`` prints the figures as JSON.
Needs the ``speech`` extra and Debian's espeak-ng.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

SEED = 13
SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Fresh snow peas, thick slabs of blue cheese, and maybe a snack for her brother.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her on Wednesday at the "
    "train station.",
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow.",
    "The rainbow is a division of white light into many beautiful colors.",
    "How much wood would a woodchuck chuck if a woodchuck could chuck wood?",
    "Our meeting with the design team starts early tomorrow morning in the large office.",
    "Turn left at the second traffic light, then keep going until you see the old church.",
    "The museum is closed on Mondays, but the garden stays open until sunset.",
    "I would like two coffees with milk and one cup of green tea, please.",
    "Remember to save your work before you close the laptop.",
    "The weather forecast says heavy rain will reach the coast by Friday evening.",
    "Can you tell me where the nearest pharmacy is?",
    "Our flight to London leaves in the morning from the north terminal.",
    "Children were playing football in the park while their parents talked on the benches.",
    "The library has thousands of old books and a quiet reading room upstairs.",
    "Please speak slowly and clearly so that everyone can understand the instructions.",
    "After dinner we walked along the beach and watched the boats come back to the harbor.",
)


def _espeak(text: str, path: Path, *, speed: int, pitch: int) -> None:
    # Written to a file, not stdout: espeak-ng's streamed WAV header has placeholder sizes.
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(speed), "-p", str(pitch), "-w", str(path), text],
                   check=True, capture_output=True, timeout=120)


def _padded(src: Path, dst: Path, before: float, after: float) -> tuple[float, float]:
    """`src` with silence before and after, written to `dst`; (total seconds, speech seconds)."""
    with wave.open(str(src)) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    rate, width = params.framerate, params.sampwidth * params.nchannels
    with wave.open(str(dst), "wb") as w:
        w.setparams(params)
        w.writeframes(b"\0" * width * round(before * rate) + frames + b"\0" * width * round(after * rate))
    speech = params.nframes / rate
    return before + speech + after, speech


def make_corpus(folder: Path, *, seed: int = SEED) -> list[tuple[Path, str, float, float]]:
    """The sentences as padded WAV files: (path, text, seconds, speech seconds) each."""
    rng = np.random.default_rng(seed)
    out = []
    for i, text in enumerate(SENTENCES):
        raw, path = folder / f"raw{i:02d}.wav", folder / f"s{i:02d}.wav"
        _espeak(text, raw, speed=int(rng.integers(120, 171)), pitch=int(rng.integers(35, 66)))
        total, speech = _padded(raw, path, float(rng.uniform(0.5, 3.0)), float(rng.uniform(0.5, 3.0)))
        out.append((path, text, total, speech))
    return out


def asr_figures() -> dict[str, Any]:
    """Whisper tiny.en on espeak-ng speech of known text (the module docstring)."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    from labelloop.learn.speech import WhisperTranscriber
    from labelloop.quality.texts import corpus_wer

    with tempfile.TemporaryDirectory() as tmp:
        corpus = make_corpus(Path(tmp))
        t0 = time.perf_counter()
        model = WhisperTranscriber()
        load_s = time.perf_counter() - t0
        hypotheses: dict[int, str] = {}
        t0 = time.perf_counter()
        for i, (path, _, _, _) in enumerate(corpus):
            hypotheses[i] = " ".join(s.text or "" for s in model.transcribe(path))
        wall = time.perf_counter() - t0
    audio = sum(c[2] for c in corpus)
    return {
        "asr_wer_espeak": round(corpus_wer(hypotheses, {i: c[1] for i, c in enumerate(corpus)}), 4),
        "asr_realtime_factor": round(audio / wall, 2),
        "asr_audio_s": round(audio, 1),
        "asr_speech_s": round(sum(c[3] for c in corpus), 1),
        "asr_files": len(corpus),
        "asr_wall_s": round(wall, 2),
        "asr_load_s": round(load_s, 2),
        "asr_load_average": [round(x, 2) for x in os.getloadavg()],
    }


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    print(json.dumps(asr_figures()))
