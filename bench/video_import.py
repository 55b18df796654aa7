"""Benchmark of video imports: a 1080p H.264 test card through the import's video path, probed and
decoded once, its frame table and poster made (docs/video.md, "Video items and blobs").

Run with ``python bench/video_import.py [--seconds 20] [--quick]``. It writes a test card
(labelloop.services.video.testcard: 1920x1080, 25 frames a second, H.264 with B-frames, a
keyframe every 2 s) of ``--seconds`` seconds to a temporary folder, stores it as an import does
(``importing/video/files.store_video`` into a fresh blob store: staged and hashed, probed with
every frame decoded, the frame table and the poster stored) and scales the time to one hour:
``import_probe_s_per_hour`` = seconds taken x 3600 / seconds of video. The scaling is honest
because the work is one pass over the frames (decoding dominates: linear in the frame count);
it is a short 1080p clip scaled up, not an hour encoded (an hour of 1080p would take longer to
write than to measure on this machine). A test card is easy to decode (flat colours): real
footage of the same size decodes slower, by a factor the codec's bitrate decides.

Also: ``proxy_s_per_hour`` (the 1280x720 H.264 proxy an original larger than 1080p, or one the
browser cannot play, gets: every frame decoded, scaled and encoded), ``probe_peak_rss_mb`` (the
process's peak resident memory: flat in the video's length, frames are streamed) and
``frames_json_bytes_per_hour`` (the frame table a player fetches). The last line printed is one
JSON object; ``run(quick)`` returns it to bench/video.py.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

WIDTH, HEIGHT, FPS = 1920, 1080, 25


def measure(seconds: int) -> dict[str, float | str]:
    from labelloop.services.importing.video.files import store_video
    from labelloop.services.video import testcard
    from labelloop.services.video.probe import probe
    from labelloop.services.video.proxy import make_proxy
    from labelloop.store.blobs import LocalBlobStore

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "card.mp4"
        # Written by another process, so that the encoder's memory is not counted as the probe's.
        subprocess.run([sys.executable, "-c", _WRITE, str(path), str(seconds * FPS)], check=True,
                       env={"PYTHONPATH": str(ROOT / "src")})
        duration = seconds * FPS / FPS
        store = LocalBlobStore(folder / "blobs")
        start, cpu = time.perf_counter(), time.process_time()
        with path.open("rb") as f:
            video = store_video(store, f, limit=1 << 40, max_seconds=4 * 3600)
        import_s, import_cpu = time.perf_counter() - start, time.process_time() - cpu
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        times = tuple(i / FPS for i in range(seconds * FPS))
        card = testcard.TestCard(path, WIDTH, HEIGHT, times, duration, "h264")
        assert video.frame_count == card.frame_count and video.proxy is None
        found = probe(card.path, max_seconds=4 * 3600)
        start = time.perf_counter()
        make_proxy(card.path, folder / "proxy.mp4", found, preset="veryfast")
        proxy_s = time.perf_counter() - start
        per_hour = 3600 / card.duration
        return {
            "video_source": f"test card {WIDTH}x{HEIGHT} H.264 {FPS} fps, {seconds} s, scaled to 1 h",
            "video_seconds": float(seconds),
            "video_bytes": float(card.path.stat().st_size),
            "import_probe_s_per_hour": round(import_s * per_hour, 1),
            "import_probe_cpu_s_per_hour": round(import_cpu * per_hour, 1),
            "import_probe_realtime_factor": round(card.duration / import_s, 2),
            "proxy_s_per_hour": round(proxy_s * per_hour, 1),
            "frames_json_bytes_per_hour": round(video.frames.size * per_hour),
            "probe_peak_rss_mb": round(rss, 1),
        }


_WRITE = f"""
import sys
from pathlib import Path
from labelloop.services.video import testcard
testcard.write_video(Path(sys.argv[1]), int(sys.argv[2]), width={WIDTH}, height={HEIGHT}, fps={FPS},
                     bframes=2, preset="ultrafast")
"""


def run(quick: bool) -> dict[str, float | str]:
    """The figures for bench/video.py: an 8-second clip when quick, else 20 seconds."""
    return measure(8 if quick else 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    figures = measure(args.seconds) if args.seconds else run(args.quick)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
