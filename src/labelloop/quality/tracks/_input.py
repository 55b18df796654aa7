"""Input checking and flattening of track answers, done once at the boundary.

Track aggregators and metrics take tracks **after interpolation** (docs/video.md, "Quality for
tracks"): a track is a mapping ``{"id": ..., "boxes": {frame: [x1, y1, x2, y2], ...}}`` with an
optional ``"label"`` (its class: tracks of different classes never match). Frames are whole numbers
>= 0 (ints, or strings of digits as JSON object keys give them); a frame missing from ``boxes`` is a
frame where the track shows nothing (before its start, after it left, between an ``outside`` keyframe
and the next one). A table of answers has columns ``task``, ``worker``, ``tracks`` (one video per
task, each ``tracks`` value a list of tracks, possibly empty: "no object in this video" is an answer)
and follows the rules of :mod:`labelloop.quality._input`: a missing ``tracks`` is no answer, missing
ids are an error, the last of duplicate ``(task, worker)`` rows wins, nothing left is an error. Every
box must be four finite numbers with ``x1 <= x2`` and ``y1 <= y2``; the first bad one is named by its
row, task, worker, track and frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelloop.quality._input import AnswerCounts, answer_rows, sorted_rank, to_list_frame
from labelloop.quality.shapes._input import Codes, Floats

TrackAnswers: TypeAlias = "pd.DataFrame | Mapping[str, Any]"
Track: TypeAlias = Mapping[str, Any]

COLUMNS = ("task", "worker", "tracks")


@dataclass(frozen=True, eq=False)
class FlatTracks:
    """A list of tracks as arrays: detection d is track ``det_track[d]`` at ``det_frame[d]``."""

    ids: list[Any]
    labels: list[Any]
    det_track: Codes
    det_frame: Codes
    det_box: Floats

    @property
    def n_tracks(self) -> int:
        return len(self.ids)


def _frame(key: Any) -> int | None:
    """A frame number from a ``boxes`` key (int, integral float, or a string of digits); None if not one."""
    if isinstance(key, bool):
        return None
    if isinstance(key, (int, np.integer)):
        return int(key) if key >= 0 else None
    if isinstance(key, float) and key.is_integer() and key >= 0:
        return int(key)
    if isinstance(key, str) and key.strip().isdigit():
        return int(key.strip())
    return None


def _bad_box(where: str, k: int, key: Any, box: Any) -> ValueError | None:
    """The error for one box that is not four finite numbers with x1 <= x2 and y1 <= y2 (None if fine)."""
    try:
        arr = np.asarray(box, dtype=np.float64)
    except (TypeError, ValueError):
        return ValueError(f"{where}[{k}] frame {key}: box must be [x1, y1, x2, y2], got {box!r}")
    if arr.shape != (4,) or not np.isfinite(arr).all() or not (arr[0] <= arr[2] and arr[1] <= arr[3]):
        return ValueError(
            f"{where}[{k}] frame {key}: box must be four finite numbers with x1 <= x2 and y1 <= y2, "
            f"got {box!r}"
        )
    return None


def flatten_tracks(tracks: Iterable[Track] | None, where: str = "tracks") -> FlatTracks:
    """Check a list of tracks and flatten it (*where* names it in errors)."""
    ids: list[Any] = []
    labels: list[Any] = []
    counts: list[int] = []
    keys: list[Any] = []
    values: list[Any] = []
    if tracks is None:
        tracks = []
    if isinstance(tracks, (str, bytes, Mapping)):
        raise ValueError(f"{where}: must be a list of tracks, got {type(tracks).__name__}")
    for k, track in enumerate(tracks):
        if not isinstance(track, Mapping) or not isinstance(track.get("boxes"), Mapping):
            raise ValueError(
                f"{where}[{k}]: a track must be a mapping with 'boxes': {{frame: [x1, y1, x2, y2]}}"
            )
        boxes = track["boxes"]
        counts.append(len(boxes))
        keys.extend(boxes.keys())
        values.extend(boxes.values())
        ids.append(track.get("id", k))
        labels.append(track.get("label"))
    track_codes = np.repeat(np.arange(len(counts), dtype=np.intp), counts)
    if all(type(key) is int for key in keys):  # the usual case, without a call per key
        frames = np.fromiter(keys, dtype=np.intp, count=len(keys))
        frames[frames < 0] = -1
    else:
        frames = np.fromiter(map(_frame_or_minus, keys), dtype=np.intp, count=len(keys))
    bad = np.flatnonzero(frames < 0)
    if len(bad):
        k = int(track_codes[bad[0]])
        raise ValueError(f"{where}[{k}]: frame {keys[bad[0]]!r} is not a whole number >= 0")
    try:  # one conversion for every box; on failure, find the first bad one
        arr = np.array(values, dtype=np.float64).reshape(-1, 4)
        ok = arr.shape[0] == len(values) and bool(
            np.isfinite(arr).all() and (arr[:, 0] <= arr[:, 2]).all() and (arr[:, 1] <= arr[:, 3]).all()
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        for i, box in enumerate(values):
            error = _bad_box(where, int(track_codes[i]), int(frames[i]), box)
            if error is not None:
                raise error
    if len(frames):  # the same frame twice in one track (e.g. keys 3 and "3")
        key = track_codes.astype(np.int64) * (int(frames.max()) + 1) + frames
        if len(np.unique(key)) < len(key):
            raise ValueError(f"{where}: a track has the same frame twice")
    return FlatTracks(ids, labels, track_codes, frames, arr if len(values) else np.zeros((0, 4)))


def _frame_or_minus(key: Any) -> int:
    frame = _frame(key)
    return -1 if frame is None else frame


@dataclass(frozen=True, eq=False)
class EncodedTracks(AnswerCounts):
    """Answers as codes: answer i is ``(task[i], worker[i])``; track k is in answer ``answer[k]`` with
    class ``label[k]`` (-1: none); detection d is track ``det_track[d]`` at frame ``det_frame[d]``."""

    task: Codes
    worker: Codes
    answer: Codes
    label: Codes
    det_track: Codes
    det_frame: Codes
    det_box: Floats
    tasks: pd.Index
    workers: pd.Index
    labels: list[Any]
    worker_rank: Codes
    track_ids: list[Any]

    @property
    def n_tracks(self) -> int:
        return int(self.answer.shape[0])

    @property
    def track_task(self) -> Codes:
        return self.task[self.answer]

    @property
    def track_worker(self) -> Codes:
        return self.worker[self.answer]


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for error messages)."""
    return value.item() if isinstance(value, np.generic) else value


def to_track_frame(answers: TrackAnswers) -> pd.DataFrame:
    """Check the shape of *answers* and return it as a DataFrame with the three columns."""
    return to_list_frame(answers, COLUMNS, "track answers")


def encode_tracks(answers: TrackAnswers) -> EncodedTracks:
    """Validate and encode track answers (see the module docstring for the rules)."""
    frame = to_track_frame(answers)
    values = frame["tracks"].tolist()
    rows, task, worker, tasks, workers = answer_rows(
        frame, values, "track answers are empty: no row with a tracks value"
    )
    answer: list[NDArray[np.intp]] = []
    det_track: list[NDArray[np.intp]] = []
    det_frame: list[NDArray[np.intp]] = []
    det_box: list[Floats] = []
    labels: list[Any] = []
    track_ids: list[Any] = []
    n = 0
    for i, pos in enumerate(rows):
        who = f"task {_plain(frame['task'].iat[pos])!r}, worker {_plain(frame['worker'].iat[pos])!r}"
        where = f"row {frame.index[pos]!r} ({who})"
        flat = flatten_tracks(values[pos], where=f"{where}: tracks")
        answer.append(np.full(flat.n_tracks, i, dtype=np.intp))
        det_track.append(flat.det_track + n)
        det_frame.append(flat.det_frame)
        det_box.append(flat.det_box)
        labels.extend(flat.labels)
        track_ids.extend(flat.ids)
        n += flat.n_tracks
    label_codes, label_names = pd.factorize(pd.Series(labels, dtype=object), sort=False, use_na_sentinel=True)
    return EncodedTracks(
        task=task,
        worker=worker,
        answer=np.concatenate(answer) if answer else np.zeros(0, dtype=np.intp),
        label=label_codes.astype(np.intp),
        det_track=np.concatenate(det_track),
        det_frame=np.concatenate(det_frame),
        det_box=np.concatenate(det_box).reshape(-1, 4),
        tasks=tasks,
        workers=workers,
        labels=list(label_names),
        worker_rank=sorted_rank(workers),
        track_ids=track_ids,
    )
