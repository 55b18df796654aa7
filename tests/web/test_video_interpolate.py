"""The browser's interpolation of tracks (frontend/src/video/interpolate.ts) against the shared
cases of docs/video.md's rule (tests/data/video/interpolation_cases.json, which the server's
`schema/types/video/interpolate.py` also reads): every frame of every case, boxes compared
exactly (the same IEEE doubles), and the workbench's edits (split, merge, outside) on hand-made
tracks with known answers.

The module imports nothing, so the project's own TypeScript compiler (frontend/node_modules)
emits it alone and Node runs it; no browser is needed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TSC = ROOT / "frontend" / "node_modules" / ".bin" / "tsc"
SOURCE = ROOT / "frontend" / "src" / "video" / "interpolate.ts"
CASES = ROOT / "tests" / "data" / "video" / "interpolation_cases.json"

RUN_CASES = """
import { readFileSync } from "node:fs";
import { boxAt } from "./interpolate.js";
const { cases } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = cases.map((c) => {
  const track = { id: "t1", label: "x", keyframes: c.keyframes };
  return c.expected.map((e) => {
    const got = boxAt(track, e.frame, c.frame_count);
    return { frame: e.frame, box: got ? got.box : null, occluded: got ? got.occluded : null };
  });
});
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node = shutil.which("node")
    if node is None or not TSC.exists():
        if os.environ.get("CI"):
            pytest.fail("Node or the frontend's TypeScript is missing: make test builds the web app with them")
        pytest.skip("needs Node and the frontend's TypeScript (cd frontend && npm ci)")
    out = tmp_path_factory.mktemp("interpolate")
    subprocess.run([str(TSC), "--outDir", str(out), "--target", "ES2022", "--module", "ESNext", "--skipLibCheck",
                    str(SOURCE)], check=True, capture_output=True, timeout=120)
    (out / "package.json").write_text('{"type": "module"}')
    return out


def run(compiled: Path, script: str, *args: str) -> Any:
    path = compiled / "run.mjs"
    path.write_text(script)
    done = subprocess.run(["node", str(path), *args], check=True, capture_output=True, text=True, timeout=60)
    return json.loads(done.stdout)


def test_every_shared_case_frame_by_frame_exactly(compiled: Path) -> None:
    cases = json.loads(CASES.read_text())["cases"]
    got = run(compiled, RUN_CASES, str(CASES))
    assert len(got) == len(cases) and len(cases) >= 5
    frames = 0
    for case, answers in zip(cases, got, strict=True):
        for want, have in zip(case["expected"], answers, strict=True):
            frames += 1
            where = f"{case['name']}, frame {want['frame']}"
            if want["box"] is None:
                assert have["box"] is None, where
                continue
            # Exactly: JSON carries doubles to the bit both ways.
            assert have["box"] == want["box"], where
            assert have["occluded"] == want["occluded"], where
    assert frames > 50


EDITS = """
import { boxAt, split, merge, toggleOutside, deleteKeyframe, setBox } from "./interpolate.js";
const kf = (frame, box, outside = false, occluded = false) => ({ frame, box, outside, occluded });
const t = { id: "t1", label: "car", attributes: { parked: "no" },
            keyframes: [kf(0, [0, 0, 10, 10]), kf(10, [10, 20, 30, 50])] };
const [head, tail] = split(t, 5, "t2");
const merged = merge(head, tail, 20);
const out = {
  head, tail,
  splitAtFirst: split(t, 0, "t2"),
  mergedBack: merged,
  mergeOverlap: merge(t, { id: "t3", label: "car", keyframes: [kf(15, [1, 1, 2, 2])] }, 20),
  outside: toggleOutside(t, 4),
  outsideFirst: toggleOutside(t, 0),
  boxAfterOutside: boxAt(toggleOutside(t, 4), 6, 20),
  boxBeforeOutside: boxAt(toggleOutside(t, 4), 3, 20),
  lastGone: deleteKeyframe({ ...t, keyframes: [kf(0, [0, 0, 1, 1])] }, 0),
  notKeyframe: deleteKeyframe(t, 3),
  moved: setBox(t, 5, [1, 2, 3, 4]).keyframes.map((k) => k.frame),
};
process.stdout.write(JSON.stringify(out));
"""


def kf(frame: int, box: list[float], outside: bool = False, occluded: bool = False) -> dict[str, Any]:
    return {"frame": frame, "box": box, "outside": outside, "occluded": occluded}


def test_split_merge_outside_and_delete_keyframe(compiled: Path) -> None:
    got = run(compiled, EDITS)
    # Split at 5: the head keeps 0, gets the interpolated box at 4 as a keyframe, ends outside at 5;
    # the tail starts at 5 with the box there, then the keyframe at 10; label and attributes kept.
    assert got["head"]["keyframes"] == [kf(0, [0, 0, 10, 10]), kf(4, [4, 8, 18, 26]), kf(5, [5, 10, 20, 30], True)]
    assert got["tail"] == {"id": "t2", "label": "car", "attributes": {"parked": "no"},
                           "keyframes": [kf(5, [5, 10, 20, 30]), kf(10, [10, 20, 30, 50])]}
    assert isinstance(got["splitAtFirst"], str)
    # Merging them back: no frame shows both; the keyframe at 5 that shows a box is kept.
    assert got["mergedBack"]["id"] == "t1"
    assert got["mergedBack"]["keyframes"] == [kf(0, [0, 0, 10, 10]), kf(4, [4, 8, 18, 26]), kf(5, [5, 10, 20, 30]),
                                              kf(10, [10, 20, 30, 50])]
    assert "frame 15" in got["mergeOverlap"]
    # Outside at 4: a keyframe there (the box kept), nothing from 4 on, the box held before it.
    assert got["outside"]["keyframes"][1] == kf(4, [4, 8, 18, 26], True)
    assert isinstance(got["outsideFirst"], str)
    assert got["boxAfterOutside"] is None
    assert got["boxBeforeOutside"]["box"] == [0, 0, 10, 10]
    assert got["lastGone"] is None
    assert isinstance(got["notKeyframe"], str)
    assert got["moved"] == [0, 5, 10]
