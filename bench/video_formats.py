"""Benchmark of the video formats (docs/video.md, "Formats"): round trips of synthetic tracks through
MOT Challenge (with and without labelloop's keyframes sidecar) and CVAT for video XML, and the
speed of writing and reading them.

Synthetic answers: videos of 1,500 frames (300 with ``--quick``), 8 tracks each, keyframes every
10-60 frames at whole, quarter-pixel and arbitrary float coordinates, some `outside` (the object
leaves for a while) and `occluded`. Figures:

- ``formats_keyframes_kept``: the fraction of keyframes that come back exactly (frame, flags and
  every coordinate) through MOT with its sidecar and through CVAT (target 1.0);
- ``mot_found_keyframes_ratio``: keyframes found in gt.txt alone (no sidecar) over those drawn,
  for tracks drawn at whole and quarter pixels (1.0 or less: the drawn ones, less those on their
  neighbours' line); ``mot_found_keyframes_ratio_float17`` the same for coordinates of 17 digits,
  where gt.txt's width cannot always say which of two floats a keyframe's x2 was (the importer
  tries both); in every case the export of what was found writes the same gt.txt
  (``mot_found_rewrites_same`` 1.0);
- ``mot_write_lines_per_s`` / ``mot_read_lines_per_s`` and ``cvat_write_boxes_per_s`` /
  ``cvat_read_boxes_per_s``: one core, pure Python.

Run ``python bench/video_formats.py [--quick]``: a table, then one JSON line. ``run(quick)`` is
importable by bench/video.py.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

LABELS = ["car", "person", "bike"]
W, H = 1920, 1080


class _Spec:
    values = LABELS
    attributes: tuple[Any, ...] = ()


def _coordinate(rng: random.Random, lo: float, hi: float, kind: int) -> float:
    x = rng.uniform(lo, hi)
    return float(round(x)) if kind == 0 else round(x * 4) / 4 if kind == 1 else x


def _track(rng: random.Random, n: int, tid: int) -> dict[str, Any]:
    kind = tid % 3
    keys: list[dict[str, Any]] = []
    f = rng.randrange(0, n // 4)
    while f < n:
        outside = bool(keys) and rng.random() < 0.1
        x1, y1 = _coordinate(rng, 0, W - 200, kind), _coordinate(rng, 0, H - 200, kind)
        box = [x1, y1, x1 + _coordinate(rng, 20, 199, kind), y1 + _coordinate(rng, 20, 199, kind)]
        occluded = not outside and rng.random() < 0.2
        keys.append({"frame": f, "box": box, "outside": outside, "occluded": occluded})
        f += rng.randrange(10, 61)
    return {"id": str(tid), "label": rng.choice(LABELS), "attributes": {}, "keyframes": keys}


def _key_tuple(k: dict[str, Any]) -> tuple[Any, ...]:
    box = None if k["box"] is None else tuple(map(float, k["box"]))
    return (k["frame"], k["outside"], k["occluded"], box)


def run(quick: bool) -> dict[str, float | str]:
    from labelloop.services.exporting.video import cvat as cvat_out
    from labelloop.services.exporting.video import mot as mot_out
    from labelloop.services.importing.video import cvat as cvat_in
    from labelloop.services.importing.video import mot as mot_in

    rng = random.Random(15)
    n, videos, per = (300, 4, 8) if quick else (1500, 12, 8)
    video = mot_in.Frame(W, H, n)
    kept = total = same = 0
    found, drawn = [0, 0], [0, 0]  # whole and quarter pixels, 17-digit floats
    lines = boxes = 0
    t_mot_w = t_mot_r = t_cvat_w = t_cvat_r = 0.0
    for _ in range(videos):
        tracks = [_track(rng, n, i + 1) for i in range(per)]
        t = time.perf_counter()
        gt = b"".join(mot_out.gt_lines(tracks, LABELS, n)).decode()
        keys = mot_out.keyframe_lines(tracks).decode()
        t_mot_w += time.perf_counter() - t
        lines += gt.count("\n")
        t = time.perf_counter()
        rows, problems = mot_in.read_gt(gt, "gt.txt", labels=LABELS, names=None, video=video)
        sidecar, more = mot_in.read_keyframes(keys, "keyframes.txt", video)
        back, worse = mot_in.mot_tracks(rows, sidecar, gt="gt.txt", sidecar="keyframes.txt", frame_count=n)
        t_mot_r += time.perf_counter() - t
        assert not (problems or more or worse), (problems, more, worse)
        t = time.perf_counter()
        xml = b"".join([cvat_out.head(_Spec, "v", "v.mp4", n, W, H),
                        *cvat_out.tracks_xml([(None, tr) for tr in tracks], n), cvat_out.TAIL])
        t_cvat_w += time.perf_counter() - t
        boxes += xml.count(b"<box ")
        t = time.perf_counter()
        from_cvat, problems = cvat_in.cvat_tracks(xml, "v.xml", labels=LABELS, attributes=[], video=video)
        t_cvat_r += time.perf_counter() - t
        assert not problems, problems
        for a, b, c in zip(tracks, back, from_cvat, strict=True):
            for ka, kb, kc in zip(a["keyframes"], b["keyframes"], c["keyframes"], strict=True):
                kept += (_key_tuple(ka) == _key_tuple(kb)) + (_key_tuple(ka) == _key_tuple(kc))
            total += 2 * len(a["keyframes"])
        alone, problems = mot_in.mot_tracks(rows, None, gt="gt.txt", sidecar="", frame_count=n)
        assert not problems, problems
        for a, b in zip(tracks, alone, strict=True):
            kind = int(a["id"]) % 3 == 2
            drawn[kind] += sum(1 for k in a["keyframes"] if not k["outside"])
            found[kind] += sum(1 for k in b["keyframes"] if not k["outside"])
        same += b"".join(mot_out.gt_lines(alone, LABELS, n)).decode() == gt
    out: dict[str, float | str] = {
        "formats_keyframes_kept": kept / total,
        "mot_found_keyframes_ratio": round(found[0] / drawn[0], 4),
        "mot_found_keyframes_ratio_float17": round(found[1] / drawn[1], 4),
        "mot_found_rewrites_same": same / videos,
        "mot_write_lines_per_s": round(lines / t_mot_w),
        "mot_read_lines_per_s": round(lines / t_mot_r),
        "cvat_write_boxes_per_s": round(boxes / t_cvat_w),
        "cvat_read_boxes_per_s": round(boxes / t_cvat_r),
        "formats_videos": f"{videos} x {n} frames, {per} tracks each",
    }
    width = max(map(len, out))
    for k, v in out.items():
        print(f"{k:<{width}}  {v}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    print(json.dumps(run(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
