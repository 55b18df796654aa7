"""Trackers: from a box on one frame, the object's box on the frames after it.

They meet one interface, `Tracker`, in three kinds, as the image models do (services/loop/models.py):
the built-in `OpenCVTracker` (OpenCV's CSRT when the installed build has it, else KCF, else MIL:
Babenko et al. 2011, "Robust object tracking with online multiple instance learning", the one the
`images-models` extra's opencv-python-headless carries), a team's tracker over HTTP (`HttpTracker`,
`POST <url>/track`, docs/video.md "Tracks"), or an entry point in the group `labelloop.trackers`.

Losing the object: a tracker that says so stops the run; so does, for the built-in one, a box that
leaves the frame by more than half, or whose content no longer looks like the object: the
normalised cross-correlation of its grey patch (resized to `PATCH` x `PATCH`) with the first
frame's falls under `LOST_NCC` (an object hidden behind another, or the tracker drifted onto the
background). MIL reports success on every frame, so without that check it would follow the
background after an occlusion.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator, Sequence
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import numpy as np

from labelloop.errors import Invalid, Problem

Frame = np.ndarray[Any, np.dtype[np.uint8]]  # (height, width, 3) RGB
Box = list[float]

LOST_NCC = 0.35
PATCH = 24
SNAP_PX = 4  # how far (pixels of the tracked frame) a box may be moved to the best match
# The built-in tracker works on frames at most this wide (scaled down, boxes scaled back): MIL's
# cost grows with the box's size, and a 4K frame tracks no better than its half.
TRACK_WIDTH = 960
JPEG_QUALITY = 90


@runtime_checkable
class Tracker(Protocol):
    """A single-object tracker: frames in, the object's box on each frame after the first out."""

    name: str

    def track(self, frames: Iterator[Frame], box: Sequence[float]) -> Iterator[Box | None]:
        """`frames` are RGB arrays, the first the one `box` ([x1, y1, x2, y2], pixels) is drawn on;
        one box per following frame, as they come, ending (or None) where the object is lost."""
        ...


def _cv2() -> Any:
    from labelloop.learn.images.inputs import require_cv2

    return require_cv2()


def opencv_kinds() -> list[str]:
    """The OpenCV trackers this build offers, best first."""
    cv2 = _cv2()
    legacy = getattr(cv2, "legacy", None)
    found = []
    for kind in ("CSRT", "KCF", "MIL"):
        if hasattr(cv2, f"Tracker{kind}_create") or hasattr(legacy, f"Tracker{kind}_create"):
            found.append(kind)
    return found


def _create(kind: str) -> Any:
    cv2 = _cv2()
    make = getattr(cv2, f"Tracker{kind}_create", None) or getattr(getattr(cv2, "legacy", None),
                                                                  f"Tracker{kind}_create")
    return make()


def _patch(gray: np.ndarray[Any, Any], box: Sequence[float]) -> np.ndarray[Any, Any] | None:
    """The box's content, PATCH x PATCH, zero mean and unit norm (None when it is flat or empty)."""
    cv2 = _cv2()
    h, w = gray.shape
    x1, y1 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    x2, y2 = min(w, math.ceil(box[2])), min(h, math.ceil(box[3]))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    p = cv2.resize(gray[y1:y2, x1:x2], (PATCH, PATCH), interpolation=cv2.INTER_AREA).astype(np.float64)
    p -= p.mean()
    norm = float(np.linalg.norm(p))
    return None if norm < 1e-6 else p / norm


def _best_match(cv2: Any, gray: np.ndarray[Any, Any], pixels: np.ndarray[Any, Any], x: int, y: int,
                reach: int) -> tuple[float, int, int] | None:
    """(score, x, y) of the best normalised cross-correlation of `pixels` within `reach` of (x, y)."""
    h, w = pixels.shape
    x0, y0 = max(0, x - reach), max(0, y - reach)
    region = gray[y0:min(gray.shape[0], y + h + reach), x0:min(gray.shape[1], x + w + reach)]
    if region.shape[0] < h or region.shape[1] < w:
        return None
    _, best, _, (bx, by) = cv2.minMaxLoc(cv2.matchTemplate(region, pixels, cv2.TM_CCOEFF_NORMED))
    return float(best), x0 + int(bx), y0 + int(by)


def _snapped(cv2: Any, gray: np.ndarray[Any, Any], pixels: np.ndarray[Any, Any], rx: int, ry: int,
             last: tuple[int, int]) -> tuple[int, int]:
    """Where the first frame's pixels of the box match best (normalised cross-correlation) near
    the tracker's answer or near the last box, when better than the answer itself. MIL samples at
    random from a generator of OpenCV's that no call resets, so its answer wanders from one run to
    the next and now and then jumps off; the best match does not (a still object keeps its box)."""
    h, w = pixels.shape
    if h < 4 or w < 4 or float(pixels.std()) < 1e-6:
        return rx, ry
    own = _best_match(cv2, gray, pixels, rx, ry, 0)
    found = [m for m in (_best_match(cv2, gray, pixels, rx, ry, SNAP_PX),
                         _best_match(cv2, gray, pixels, *last, 2 * SNAP_PX)) if m is not None]
    if not found:
        return rx, ry
    best = max(found, key=lambda m: m[0])
    if own is not None and best[0] <= own[0] + 1e-9:
        return rx, ry
    return best[1], best[2]


def inside_share(box: Sequence[float], width: int, height: int) -> float:
    """The share of the box's area inside the frame."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    if area <= 0:
        return 0.0
    w = max(0.0, min(box[2], width) - max(box[0], 0.0))
    h = max(0.0, min(box[3], height) - max(box[1], 0.0))
    return w * h / area


class OpenCVTracker:
    """The built-in tracker (module docstring); `kind` CSRT, KCF or MIL (default: the best built)."""

    def __init__(self, kind: str | None = None, *, lost_ncc: float = LOST_NCC) -> None:
        kinds = opencv_kinds()
        if kind is None:
            if not kinds:
                raise ImportError("this OpenCV build has no CSRT, KCF or MIL tracker")
            kind = kinds[0]
        elif kind.upper() not in kinds:
            raise ImportError(f"this OpenCV build has no {kind.upper()} tracker "
                              f"(it has: {', '.join(kinds) or 'none'})")
        self.kind = kind.upper()
        self.lost_ncc = lost_ncc
        self.name = f"opencv-{self.kind.lower()}"

    def track(self, frames: Iterator[Frame], box: Sequence[float]) -> Iterator[Box | None]:
        cv2 = _cv2()
        first = next(frames, None)
        if first is None:
            return
        height, width = first.shape[:2]
        scale = min(1.0, TRACK_WIDTH / width)

        def small(frame: Frame) -> Frame:
            bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
            if scale == 1.0:
                return np.asarray(bgr)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            return np.asarray(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA))

        start = small(first)
        x1, y1, x2, y2 = (float(v) * scale for v in box)
        rect = (round(x1), round(y1), max(1, round(x2 - x1)), max(1, round(y2 - y1)))
        # MIL draws its samples from OpenCV's random generator (one per thread): seeded here, a
        # track depends on the video and the box alone, not on what the thread drew before.
        cv2.setRNGSeed(0)
        tracker = _create(self.kind)
        tracker.init(start, rect)
        start_gray = cv2.cvtColor(start, cv2.COLOR_BGR2GRAY)
        template = _patch(start_gray, [x1, y1, x2, y2])
        pixels = start_gray[rect[1]:rect[1] + rect[3], rect[0]:rect[0] + rect[2]]
        last = (rect[0], rect[1])
        # The tracker works in whole pixels: its box is moved by how far it went from the drawn
        # box's rounded rectangle, so a still object keeps exactly the box that was drawn.
        dx0, dy0 = x1 - rect[0], y1 - rect[1]
        sw, sh = (x2 - x1) / rect[2], (y2 - y1) / rect[3]
        for frame in frames:
            image = small(frame)
            ok, (rx, ry, rw, rh) = tracker.update(image)
            if not ok or rw <= 0 or rh <= 0:
                yield None
                return
            gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            rx, ry = last = _snapped(cv2, gray, pixels, int(rx), int(ry), last)
            found = [rx + dx0, ry + dy0, rx + dx0 + rw * sw, ry + dy0 + rh * sh]
            if inside_share(found, image.shape[1], image.shape[0]) < 0.5:
                yield None
                return
            if template is not None:
                patch = _patch(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), found)
                if patch is None or float((patch * template).sum()) < self.lost_ncc:
                    yield None
                    return
            limits = (width, height, width, height)
            yield [min(max(v / scale, 0.0), float(limit)) for v, limit in zip(found, limits, strict=True)]


class HttpTracker:
    """A team's own tracker behind `<url>/track` (docs/video.md, "Tracks"): meets `Tracker`."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.name = f"http:{self.url}"

    def track(self, frames: Iterator[Frame], box: Sequence[float]) -> Iterator[Box | None]:
        from PIL import Image

        from labelloop.services.loop.models import post_json

        sent = []
        for i, frame in enumerate(frames):
            buf = io.BytesIO()
            Image.fromarray(frame).save(buf, format="JPEG", quality=JPEG_QUALITY)
            sent.append({"index": i, "image": {"content_base64": base64.b64encode(buf.getvalue()).decode()}})
        if not sent:
            return
        answer = post_json(f"{self.url}/track", "loop.tracker", json={"box": [float(v) for v in box],
                                                                       "frames": sent})
        found = answer.get("boxes") if isinstance(answer, dict) else None
        if not isinstance(found, list) or len(found) > len(sent) - 1:
            raise Invalid("the tracker answered badly", [Problem(
                f'expected {{"boxes": [[x1, y1, x2, y2] or null, ...]}} with at most {len(sent) - 1} '
                "boxes (one per frame after the first)", field="boxes")])
        for i, b in enumerate(found):
            if b is None:
                yield None
                return
            if (not isinstance(b, list) or len(b) != 4 or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in b)):
                raise Invalid("the tracker answered badly", [
                    Problem("a box is [x1, y1, x2, y2], four finite numbers", field=f"boxes[{i}]")])
            yield [float(v) for v in b]
        if len(found) < len(sent) - 1:
            yield None  # fewer boxes than frames: it lost the object there


def tracker_for(name: str) -> Tracker:
    """`opencv` (built in; `opencv-csrt`, `opencv-kcf`, `opencv-mil` for one kind), an http(s) URL,
    or python:<entry point in labelloop.trackers>."""
    if name == "opencv" or name.startswith("opencv-"):
        try:
            return OpenCVTracker(name.removeprefix("opencv").removeprefix("-") or None)
        except ImportError as e:
            raise Invalid("the built-in tracker is not available",
                          [Problem(str(e), field="loop.tracker")]) from e
    if name.startswith(("http://", "https://")):
        return HttpTracker(name)
    if name.startswith("python:"):
        wanted = name.removeprefix("python:")
        for ep in entry_points(group="labelloop.trackers"):
            if ep.name == wanted:
                found: Tracker = ep.load()()
                return found
        raise Invalid("unknown tracker", [Problem(f"no entry point {wanted!r} in the group "
                                                  "'labelloop.trackers'", field="loop.tracker")])
    raise Invalid("unknown tracker",
                  [Problem("opencv, an http(s) URL, or python:<name>", field="loop.tracker")])


