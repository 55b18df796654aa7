"""The canvas's own COCO RLE codec and brush (frontend/src/canvas/rle.ts, mask.ts), run in Node,
against pycocotools (the format's reference) and the server's codec (labelloop.schema.types.shapes.rle).

The TypeScript modules are bundled with the app's own bundler (rolldown, from frontend's
node_modules) into one ES module that a small Node driver serves one JSON line at a time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as coco_mask

from labelloop.schema.types.shapes import rle as server_rle
from tests.web.canvas_page import brush_rule

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
ROLLDOWN = FRONTEND / "node_modules" / ".bin" / "rolldown"

DRIVER = """
import * as m from './canvas.mjs';
import { createInterface } from 'node:readline';
const column = (flat) => Uint8Array.from(flat, (c) => (c === '1' ? 1 : 0));
const text = (mask) => Array.from(mask, (v) => (v ? '1' : '0')).join('');
const ops = {
  encode: ({ h, w, mask }) => m.encode(column(mask), h, w),
  decode: ({ rle }) => text(m.decode(rle)),
  rects: ({ rle }) => m.rects(rle),
  bounds: ({ rle }) => m.maskBounds(rle),
  stroke: ({ h, w, points, r, erase, mask }) => {
    const px = column(mask);
    m.paintStroke(px, { width: w, height: h }, points, r, erase ? 0 : 1);
    return text(px);
  },
  shift: ({ rle, w, h, dx, dy }) => m.shiftRle(rle, { width: w, height: h }, dx, dy),
  counts: ({ s }) => m.stringToCounts(s),
};
for await (const line of createInterface({ input: process.stdin })) {
  const q = JSON.parse(line);
  let out;
  try { out = { ok: ops[q.op](q) }; } catch (e) { out = { error: String(e.message) }; }
  process.stdout.write(JSON.stringify(out) + '\\n');
}
"""


class Node:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def __call__(self, op: str, **args: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if "error" in reply:
            raise ValueError(reply["error"])
        return reply["ok"]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    if not ROLLDOWN.exists() or shutil.which("node") is None:
        pytest.fail("node and the frontend's packages are needed: `make web` installs them")
    work = tmp_path_factory.mktemp("canvas-ts")
    entry = work / "entry.ts"
    entry.write_text("".join(f'export * from "{FRONTEND / "src" / "canvas" / name}";\n'
                             for name in ("rle.ts", "mask.ts")))
    subprocess.run([str(ROLLDOWN), str(entry), "--format", "esm", "--platform", "node", "--file",
                    str(work / "canvas.mjs")], check=True, capture_output=True, cwd=FRONTEND)
    (work / "driver.mjs").write_text(DRIVER)
    proc = subprocess.Popen(["node", str(work / "driver.mjs")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=work)
    yield Node(proc)
    proc.stdin.close()  # type: ignore[union-attr]
    proc.wait(timeout=10)


def flat(mask: np.ndarray) -> str:
    """Column-major 0/1 text of an (h, w) mask, as COCO orders pixels."""
    return "".join("1" if v else "0" for v in mask.T.reshape(-1))


def unflat(text: str, h: int, w: int) -> np.ndarray:
    return np.array([c == "1" for c in text], dtype=bool).reshape(w, h).T


def coco(mask: np.ndarray) -> dict[str, Any]:
    r = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(r["size"][0]), int(r["size"][1])], "counts": r["counts"].decode()}


@st.composite
def masks(draw: st.DrawFn) -> np.ndarray:
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    kind = draw(st.sampled_from(["noise", "blobs", "full", "empty"]))
    if kind == "full":
        return np.ones((h, w), dtype=bool)
    if kind == "empty":
        return np.zeros((h, w), dtype=bool)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return rng.random((h, w)) < draw(st.floats(0.05, 0.95))
    out = np.zeros((h, w), dtype=bool)
    for _ in range(draw(st.integers(1, 4))):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        out[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1)] = True
    return out


@settings(max_examples=150, deadline=None)
@given(masks())
def test_encoding_matches_pycocotools_and_the_server(node: Node, mask: np.ndarray) -> None:
    h, w = mask.shape
    ours = node("encode", h=h, w=w, mask=flat(mask))
    assert ours == coco(mask)
    counts = server_rle.decode_counts(ours["counts"])
    assert server_rle.encode_counts(counts) == ours["counts"]
    assert unflat(node("decode", rle=coco(mask)), h, w).tolist() == mask.tolist()


@settings(max_examples=100, deadline=None)
@given(masks())
def test_rectangles_cover_the_mask_exactly_once(node: Node, mask: np.ndarray) -> None:
    h, w = mask.shape
    cover = np.zeros((h, w), dtype=int)
    for x, y, length, width in node("rects", rle=coco(mask)):
        cover[y : y + length, x : x + width] += 1
    assert cover.tolist() == mask.astype(int).tolist()
    b = node("bounds", rle=coco(mask))
    if mask.any():
        ys, xs = np.nonzero(mask)
        assert b == [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    else:
        assert b is None


def test_a_large_mask_with_long_runs_and_negative_differences(node: Node) -> None:
    h, w = 4000, 6000
    mask = np.zeros((h, w), dtype=bool)
    mask[100:3900, 10:20] = True  # long runs (counts of several characters)
    mask[0:5, 3000:5999] = True  # short runs after long ones (negative differences)
    mask[2000, :] = True
    got = node("encode", h=h, w=w, mask=flat(mask))
    assert got == coco(mask)
    assert server_rle.encode_counts(server_rle.decode_counts(got["counts"])) == got["counts"]


quarter = st.integers(-8, 30 * 4).map(lambda v: v / 4)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(quarter, quarter), min_size=1, max_size=4), st.integers(1, 24).map(lambda v: v / 4),
       st.booleans())
def test_brush_strokes_paint_and_erase_the_pixels_the_rule_names(
    node: Node, points: list[tuple[float, float]], r: float, erase: bool
) -> None:
    h, w = 24, 30
    start = np.zeros((h, w), dtype=bool)
    start[5:15, 3:20] = True
    pts = [list(p) for p in points]
    got = unflat(node("stroke", h=h, w=w, points=pts, r=r, erase=erase, mask=flat(start)), h, w)
    covered = brush_rule(h, w, pts, r)
    want = start & ~covered if erase else start | covered
    assert got.tolist() == want.tolist()


def test_a_mask_moves_by_whole_pixels_and_is_cut_at_the_edge(node: Node) -> None:
    h, w = 10, 12
    mask = np.zeros((h, w), dtype=bool)
    mask[2:5, 1:4] = True
    mask[8:10, 10:12] = True
    moved = node("shift", rle=coco(mask), w=w, h=h, dx=1, dy=1)
    want = np.zeros((h, w), dtype=bool)
    want[3:6, 2:5] = True
    want[9:10, 11:12] = True
    assert moved == coco(want)


def test_broken_counts_are_refused_by_name(node: Node) -> None:
    with pytest.raises(ValueError, match="character"):
        node("counts", s="ab~")
    with pytest.raises(ValueError, match="middle of a number"):
        node("counts", s="0P")  # 'P' has the continuation bit: a number left unfinished
    with pytest.raises(ValueError, match="cover 5 pixels"):
        node("decode", rle={"size": [2, 3], "counts": "5"})
