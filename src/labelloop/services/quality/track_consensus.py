"""Project-wide consensus of a `video_tracks` question: the default track aggregator over every answer.

The per-item consensus (`schema/types/video/track_consensus.py`) settles one video with the skills the
annotators already have. Over a whole project more can be learnt, as `box_consensus.py` learns it for
boxes: `labelloop.quality.default_track_aggregator()` matches each video's tracks across annotators
(the Hungarian algorithm on mean per-frame IoU), learns every annotator's recall and false-track rate
jointly by EM over all videos (Dawid & Skene's model with one binary answer per cluster and annotator;
Branson, Van Horn & Perona, CVPR 2017), their presence skill and localisation precision over all
their boxes, and fuses each kept cluster frame by frame (docs/quality.md, "Tracks"). The aggregator
sees classes and boxes only; this module gives each fused track the rest of an object:

- **members**: each annotator's objects are matched one-to-one to the video's fused tracks by the
  same Hungarian matching (`weighted_track_consensus` on the pair: mean per-frame IoU >= the
  aggregator's `match_iou`, classes equal);
- **attributes** by the weighted vote of the members, an annotator weighing their skill below; the
  fused track's class is the aggregator's (members of a cluster share it);
- **occluded** on each frame by the members' weighted vote (`occluded_frames`), and the fused track
  written back as keyframes where its boxes leave a straight line or `occluded` changes (the label
  type's `keyframes_of`); a fused one-frame object that its members drew as per-frame shapes stays a
  per-frame shape;
- **confidence** of the video: the mean over its clusters of max(P(real), 1 - P(real)), as for boxes;
  1 when nobody tracked anything;
- **skill** of an annotator on the question: the F1 of their learned recall and their precision (the
  share of their objects matched to a kept track; 1 for someone who tracked nothing), in [0, 1]; none
  when nobody tracked anything in the project (the EM had nothing to learn from).

**Too little data**: with fewer than `MIN_VIDEOS` (2) videos answered twice or more the recompute
keeps the per-item consensus. Boxes need 20 images (box_consensus.MIN_ITEMS), because an image gives
the EM one yes-or-no per object and annotator; a video gives the same per track, but the presence and
localisation skills that decide each fused frame learn from every frame of every track (hundreds of
boxes per annotator and video), and with two videos the existence EM separates an annotator's habits
from one video's. A single video leaves that to the priors: the per-item vote is then as good.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labelloop.quality import default_track_aggregator
from labelloop.quality.tracks import weighted_track_consensus
from labelloop.schema import Question
from labelloop.schema.types.shapes.objects import _vote
from labelloop.schema.types.video.track_consensus import (
    FrameObject,
    horizon,
    keyframes_of,
    objects_of,
    occluded_frames,
)
from labelloop.services.quality.cluster_scores import f1_skills, item_confidence

DEFAULT_SKILL = 0.7
MIN_VIDEOS = 2


def enough_for_track_model(item_ids: pd.Series) -> bool:
    """Whether a track question's answers (one row per item and annotator) can teach the EM."""
    return int((item_ids.value_counts() >= 2).sum()) >= MIN_VIDEOS


@dataclass(frozen=True)
class TrackConsensus:
    """Per item: (answer value `{"tracks", "shapes"}`, confidence); per annotator: skill."""

    items: dict[int, tuple[dict[str, Any], float]]
    skills: pd.Series


def track_consensus(question: Question, answers: pd.DataFrame) -> TrackConsensus:
    """Consensus of every item of a `video_tracks` question from `answers` (columns `item_id`,
    `user_id`, `label`: the canonical answer; one row per item and annotator)."""
    values: dict[int, dict[int, Any]] = {}
    for i, u, v in zip(answers.item_id, answers.user_id, answers.label, strict=True):
        values.setdefault(int(i), {})[int(u)] = v
    ends = {item: horizon(list(by_user.values())) for item, by_user in values.items()}
    objects = {(item, user): objects_of(v, ends[item])
               for item, by_user in values.items() for user, v in by_user.items()}
    long = pd.DataFrame({
        "task": [i for i, _ in objects], "worker": [u for _, u in objects],
        "tracks": [[o.as_track(k) for k, o in enumerate(objs)] for objs in objects.values()],
    })
    model = default_track_aggregator()
    fused = model.fit_predict(long)
    members: dict[int, list[list[tuple[FrameObject, int]]]] = {}
    matched: dict[int, list[int]] = {}  # per annotator: 1 per object matched to a kept track, else 0
    for item, tracks in fused.items():
        slots: list[list[tuple[FrameObject, int]]] = [[] for _ in tracks]
        for user in values[int(item)]:
            own = objects[(int(item), user)]
            hit = _match(list(tracks), own, model.match_iou)
            for k, j in hit.items():
                slots[j].append((own[k], user))
            matched.setdefault(user, []).extend(int(k in hit) for k in range(len(own)))
        members[int(item)] = slots
    precision = pd.Series({u: float(np.mean(m)) if m else 1.0 for u, m in matched.items()}, dtype=float)
    # Nobody tracked anything anywhere: the EM had nothing to learn from (its rates read 0).
    skills = f1_skills(model.recall_, precision) if len(model.clusters_) else pd.Series(dtype=float)
    weight = {int(u): max(float(s), 1e-6) for u, s in skills.items()}
    sure = item_confidence(model.clusters_)
    out: dict[int, tuple[dict[str, Any], float]] = {}
    for item, tracks in fused.items():
        value = _written(question, list(tracks), members[int(item)], weight, ends[int(item)])
        out[int(item)] = (value, sure.get(int(item), 1.0))
    return TrackConsensus(out, skills)


def _match(
    fused: Sequence[Mapping[str, Any]], own: Sequence[FrameObject], match_iou: float
) -> dict[int, int]:
    """One annotator's objects matched one-to-one to the fused tracks: {object index: fused index}."""
    if not fused or not own:
        return {}
    clusters = weighted_track_consensus(
        [list(fused), [o.as_track(k) for k, o in enumerate(own)]], [1.0, 1.0], match_iou=match_iou
    )
    out = {}
    for c in clusters:
        sides = dict(c.members)
        if 0 in sides and 1 in sides:
            out[sides[1]] = sides[0]
    return out


def _written(
    question: Question, tracks: Sequence[Mapping[str, Any]], members: Sequence[list[tuple[FrameObject, int]]],
    weight: Mapping[int, float], end: int,
) -> dict[str, Any]:
    """An item's fused tracks as an answer in canonical form (module docstring)."""
    spec: Any = question.spec
    out_tracks: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    for track, group in zip(tracks, members, strict=True):
        frames = {int(f): [float(x) for x in b] for f, b in track["boxes"].items()}
        objs = [o for o, _ in group]
        w = [weight.get(u, DEFAULT_SKILL) for _, u in group]
        label = track.get("label") or (objs[0].label if objs else spec.values[0])
        attributes = {} if not objs else {
            a.name: v for a in spec.attributes
            if (v := _vote([o.attributes.get(a.name) for o in objs], w)) is not None}
        kind = _vote([o.kind for o in objs], w) if objs else "track"
        if kind == "shape" and len(frames) == 1:
            (f, box), = frames.items()
            shapes.append({"frame": f, "label": label, "box": box,
                           **({"attributes": attributes} if attributes else {})})
            continue
        fused: dict[str, Any] = {"id": f"t{len(out_tracks) + 1}", "label": label}
        if attributes:
            fused["attributes"] = attributes
        fused["keyframes"] = keyframes_of(frames, end, occluded_frames(frames, objs, w))
        out_tracks.append(fused)
    shapes.sort(key=lambda s: s["frame"])
    return {"tracks": out_tracks, "shapes": shapes}
