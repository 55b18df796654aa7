"""Benchmark of audio imports: a one-hour WAV through the import service, probed and decoded once,
its waveform peaks made (docs/audio.md).

Run with ``python bench/audio_import.py [--minutes 60] [--rate 44100] [--channels 2]``: writes the
file (16-bit PCM, a tone whose loudness changes every second) to a temporary folder, imports it as
a zip would be (a folder of one file) into a fresh SQLite project, and prints a table and, as its
last line, one JSON object: ``audio_import_s_1h`` (wall-clock seconds of the import, the decode
included), ``audio_probe_s_1h`` (the probe alone), ``peaks_bytes_1h`` (the peaks file a browser
fetches to draw the whole waveform) and ``import_peak_rss_mb`` (the process's peak resident memory,
which stays flat in the file's length: it is streamed). ``measure`` is importable by ``bench/audio.py``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SCHEMA = {
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [{"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech"]}],
}


def write_wav(path: Path, seconds: int, rate: int, channels: int) -> None:
    """A 16-bit WAV written a second at a time."""
    t = np.arange(rate) / rate
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        for s in range(seconds):
            x = ((0.1 + 0.08 * (s % 10)) * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
            w.writeframes(np.repeat(x[:, None], channels, axis=1).tobytes())


def measure(minutes: int = 60, rate: int = 44100, channels: int = 2) -> dict[str, Any]:
    from labelloop.config import Settings
    from labelloop.services import projects
    from labelloop.services.accounts import users
    from labelloop.services.audio.probe import probe
    from labelloop.services.blobs import stored_audio
    from labelloop.services.importing import writer
    from labelloop.services.jobs import create_job
    from labelloop.services.policy import Actor
    from labelloop.services.runtime import Runtime

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "calls"
        folder.mkdir()
        wav = folder / "hour.wav"
        write_wav(wav, minutes * 60, rate, channels)
        started = time.perf_counter()
        probed = probe(wav, max_seconds=4 * 3600)
        probe_s = time.perf_counter() - started

        data = Path(tmp) / "data"
        rt = Runtime(Settings(_env_file=None, data_dir=data,  # type: ignore[call-arg]
                              database_url=f"sqlite:///{data / 'labelloop.db'}"))
        rt.migrate()
        op = Actor.operator()

        def setup(conn: Any) -> tuple[int, int]:
            users.create_user(conn, op, "bench", password="bench-password")
            pid = projects.create_project(conn, op, "audio bench", SCHEMA).id
            return pid, create_job(conn, op, pid, "import", {}, foreground=True).id

        pid, job = rt.db.run(setup)
        started = time.perf_counter()
        writer.import_file(rt.db, op, pid, folder, job_id=job, blobs=rt.blobs)
        import_s = time.perf_counter() - started
        with rt.db.read() as conn:
            import hashlib

            digest = hashlib.sha256()
            with wav.open("rb") as f:
                while piece := f.read(1 << 20):
                    digest.update(piece)
            stored = stored_audio(conn, digest.hexdigest())
        assert stored is not None and stored.peaks.size == len(probed.peaks)
        rt.db.dispose()
        return {
            "audio_minutes": minutes, "audio_rate": rate, "audio_channels": channels,
            "wav_bytes": wav.stat().st_size,
            "audio_import_s_1h": round(import_s * 60 / minutes, 2),
            "audio_probe_s_1h": round(probe_s * 60 / minutes, 2),
            "peaks_bytes_1h": round(len(probed.peaks) * 60 / minutes),
            "import_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--rate", type=int, default=44100)
    parser.add_argument("--channels", type=int, default=2)
    args = parser.parse_args()
    figures = measure(args.minutes, args.rate, args.channels)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
