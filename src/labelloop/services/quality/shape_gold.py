"""Shape answers scored against gold: matched objects, F1, precision, recall and mean similarity.

An answer's objects and the gold's are matched one-to-one (Hungarian assignment on the label
type's similarity: IoU for boxes, rotated boxes, polygons and masks, OKS for keypoints), only
objects of the same class pairing, a pair counting when its similarity reaches the type's
threshold (IoU 0.5, OKS 0.5; `schema/types/shapes/shape_match.py`). With TP matched pairs, FP unmatched
answer objects and FN unmatched gold objects, F1 = 2 TP / (2 TP + FP + FN), 1 when both are empty
("nothing here" agreeing with "nothing here"). Keypoints count a matched pair by its OKS rather
than as one (TP = the sum of the pairs' OKS, as the type's agreement does), so a sloppy skeleton
scores less than an exact one even when it is matched.

An answer on a gold item is *correct* (for the gold record and the pause rule of
`services/quality/trust.py`) when every choice-like question the gold settles is equal, and every
shape question the gold settles reaches F1 >= `gold_shape_score` (a project setting, 0.8 by default:
two objects missed of five fail, F1 0.75; one missed passes, 0.89; a box a few pixels off still
matches).

`video_tracks` on a gold video are scored by IDF1 against the gold tracks (Ristani et al. 2016: tracks
matched one-to-one once for the whole video, a frame counting where a matched pair of the same class
overlaps at IoU >= 0.5; `labelloop.quality.tracks`), and pass at the same `gold_shape_score`: IDF1 is
the F1 of the shapes counted over frames, with an identity switch costing the frames after it. The
annotators report adds MOTA and HOTA (docs/quality.md, "Tracks").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labelloop.quality.tracks import TrackCounts, track_counts
from labelloop.schema import LabelSchema, Question
from labelloop.schema.types.shapes import shape_match
from labelloop.schema.types.shapes.objects import ShapeType
from labelloop.schema.types.video import track_consensus


@dataclass(frozen=True)
class ShapeCounts:
    """Matching of one answer's objects against the gold's (summable over answers)."""

    tp: float = 0.0  # matched pairs (keypoints: the sum of their OKS)
    matched: int = 0
    fp: int = 0  # answer objects matched to nothing
    fn: int = 0  # gold objects nobody matched
    similarity: float = 0.0  # summed IoU (OKS) of the matched pairs

    def __add__(self, other: ShapeCounts) -> ShapeCounts:
        return ShapeCounts(self.tp + other.tp, self.matched + other.matched, self.fp + other.fp,
                           self.fn + other.fn, self.similarity + other.similarity)

    @property
    def f1(self) -> float:
        den = 2 * self.matched + self.fp + self.fn  # |answer| + |gold|
        return 1.0 if den == 0 else float(2 * self.tp / den)

    @property
    def precision(self) -> float | None:
        n = self.matched + self.fp
        return None if n == 0 else float(self.tp / n)

    @property
    def recall(self) -> float | None:
        n = self.matched + self.fn
        return None if n == 0 else float(self.tp / n)

    @property
    def mean_similarity(self) -> float | None:
        return None if self.matched == 0 else float(self.similarity / self.matched)


def is_shape(question: Question) -> bool:
    return isinstance(question.kind, ShapeType)


def shape_counts(question: Question, answer: Any, gold: Any) -> ShapeCounts:
    """Match an answer's objects to the gold's (both canonical lists of objects; None is [])."""
    kind = question.kind
    assert isinstance(kind, ShapeType)
    mine, truth = list(answer or []), list(gold or [])
    if not mine or not truth:
        return ShapeCounts(fp=len(mine), fn=len(truth))
    key = kind.shape_key
    sim = kind.similarity(question.spec, [o[key] for o in mine], [o[key] for o in truth])
    same = np.array([[a["label"] == b["label"] for b in truth] for a in mine], dtype=bool)
    found = shape_match.matches(np.where(same, sim, 0.0), kind.threshold)
    total = sum(s for _, _, s in found)
    tp = total if kind.soft_agreement else float(len(found))
    return ShapeCounts(tp, len(found), len(mine) - len(found), len(truth) - len(found), total)


def is_tracks(question: Question) -> bool:
    return question.kind.name == "video_tracks"


def track_gold_counts(answer: Any, gold: Any) -> TrackCounts:
    """MOTA, IDF1 and HOTA's sums of a `video_tracks` answer against the gold one (summable)."""
    end = track_consensus.horizon([answer, gold])
    mine, truth = track_consensus.tracks_of(answer, end), track_consensus.tracks_of(gold, end)
    return track_counts(mine, truth, iou_threshold=track_consensus.IOU)


def gold_tracks(
    questions: list[Question], answered: list[tuple[dict[str, Any], dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """Per `video_tracks` question the gold settles: the annotator's tracks against the gold's over
    their gold answers, pooled as the reference libraries pool sequences: MOTA, IDF1, HOTA, switches."""
    out: dict[str, dict[str, Any]] = {}
    for q in questions:
        scored = [track_gold_counts(answer.get(q.name), truth[q.name]) for truth, answer in answered
                  if q.name in truth]
        if scored:
            c = sum(scored, TrackCounts())
            out[q.name] = {"answers": len(scored), "mota": c.mota, "idf1": c.idf1, "hota": c.hota,
                           "switches": c.switches}
    return out


def gold_correct(
    gold: dict[str, Any], answer: dict[str, Any], schema: LabelSchema | None = None,
    *, shape_f1: float = 0.8,
) -> bool:
    """Whether an answer on a gold item is right: equal on every question the gold settles (as the
    label type's `matches_gold` says, when the schema is given), shape questions by F1 against the
    gold's objects of at least `shape_f1`."""
    questions = {} if schema is None else {q.name: q for q in schema.questions}
    for name, value in gold.items():
        q = questions.get(name)
        if q is None:
            if answer.get(name) != value:
                return False
        elif is_shape(q):
            if shape_counts(q, answer.get(name), value).f1 < shape_f1:
                return False
        elif is_tracks(q):  # IDF1 against the gold tracks, at the shapes' bar
            if track_gold_counts(answer.get(name), value).idf1 < shape_f1:
                return False
        elif not q.kind.matches_gold(q.spec, answer.get(name), value):  # equality for most types
            return False
    return True
