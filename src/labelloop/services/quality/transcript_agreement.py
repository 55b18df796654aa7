"""Agreement and annotator scores on transcript questions, for the quality reports (docs/quality.md,
"Transcripts on the platform").

An answer's transcript is the whole file's: a `text` answer, or an `audio_segments` answer's segment
texts joined in time order (`transcript_consensus.joined`), so two annotators who cut the same speech
into different segments still agree on its words. Words are compared after the library's
normalisation (lower case, punctuation removed: `labelloop.quality.texts`).

- **between annotators** (`transcript_agreement`): the symmetric WER of every pair of annotators of
  an item, d(a, b) / ((|a| + |b|) / 2) with d the word edit distance; `wer` pools every pair of every
  item (sum of d over sum of mean lengths: `mean_pairwise_wer`), `item_wer` is the mean over items of
  each item's pooled WER, and `worst_items` the items where annotators disagree most. For segments,
  also `segment_f1` (the label type's agreement: mean over items and pairs of F1 at IoU 0.5, same
  label) and `segment_iou`, the mean IoU of the segments those pairs matched.
- **per annotator** (`annotator_scores`): their pooled WER against a reference (the consensus, or the
  gold answer) over the items both have, errors / reference words; for segments against gold, their
  segments matched one-to-one to the gold's as `segment_f1` matches them: matched, missed, extra,
  precision, recall, F1, and the mean IoU of the matched pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from labelloop.quality import annotator_wer
from labelloop.quality.texts.per_task import task_pairwise_wer
from labelloop.schema import Question
from labelloop.schema.types.audio.segments import THRESHOLD, interval_iou
from labelloop.schema.types.shapes import shape_match
from labelloop.services.quality.shape_gold import ShapeCounts
from labelloop.services.quality.transcript_consensus import joined

WORST = 10  # items listed in `worst_items`


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _texts(question: Question, answers: pd.DataFrame) -> pd.DataFrame:
    """`task, worker, text` of the answers (columns `item_id`, `user_id`, `label`) with a transcript."""
    texts = [joined(question, v) for v in answers.label]
    frame = pd.DataFrame({"task": answers.item_id.astype(int).to_numpy(),
                          "worker": answers.user_id.astype(int).to_numpy(), "text": texts})
    return frame[frame.text.notna()]


def segment_matches(a: Any, b: Any) -> tuple[ShapeCounts, list[float]]:
    """Segments of `a` matched one-to-one to `b`'s (same label, IoU >= 0.5): counts with `a` as the
    answer and `b` as the reference, and the matched pairs' IoUs."""
    mine, other = list(a or []), list(b or [])
    if not mine or not other:
        return ShapeCounts(fp=len(mine), fn=len(other)), []
    iou = interval_iou(np.array([[s["start"], s["end"]] for s in mine], dtype=np.float64),
                       np.array([[s["start"], s["end"]] for s in other], dtype=np.float64))
    same = np.array([[x["label"] == y["label"] for y in other] for x in mine], dtype=bool)
    found = shape_match.matches(np.where(same, iou, 0.0), THRESHOLD)
    sims = [s for _, _, s in found]
    return ShapeCounts(float(len(found)), len(found), len(mine) - len(found), len(other) - len(found),
                       float(sum(sims))), sims


def transcript_agreement(question: Question, answers: pd.DataFrame) -> dict[str, Any]:
    """`wer`, `item_wer`, `worst_items` and, for segments, `segment_iou` (module docstring); `answers`
    has columns `item_id`, `user_id`, `label`, one row per item and annotator."""
    out: dict[str, Any] = {"wer": None, "item_wer": None, "worst_items": []}
    texts = _texts(question, answers)
    if texts.task.duplicated().any():
        per_item = task_pairwise_wer(texts)
        if len(per_item):
            out["wer"] = _finite(float(per_item.errors.sum() / max(float(per_item.words.sum()), 1.0)))
            out["item_wer"] = _finite(float(per_item.wer.mean()))
            worst = per_item.sort_values(["wer", "pairs"], ascending=False, kind="stable").head(WORST)
            out["worst_items"] = [{"item_id": int(t), "wer": float(r.wer), "annotators": int(r.answers)}
                                  for t, r in worst.iterrows() if r.wer > 0]
    if question.kind.name == "audio_segments":
        sims: list[float] = []
        for _, group in answers.groupby("item_id", sort=False):
            values = list(group.label)
            for i in range(len(values)):
                for j in range(i + 1, len(values)):
                    sims.extend(segment_matches(values[i], values[j])[1])
        out["segment_iou"] = float(np.mean(sims)) if sims else None
    return out


def annotator_scores(
    question: Question, answers: pd.DataFrame, reference: Mapping[int, Any], *, segments: bool = False,
) -> dict[int, dict[str, Any]]:
    """Per annotator, their transcripts of the items `reference` settles (item id -> value) scored
    against it: `answers`, `errors`, `words` (reference words), `wer`; with `segments`, the segment
    counts of an `audio_segments` question too (module docstring)."""
    mine = answers[answers.item_id.isin(list(reference))]
    if mine.empty:
        return {}
    texts = _texts(question, mine)
    ref = pd.Series({int(i): joined(question, v) for i, v in reference.items()}, dtype=object).dropna()
    texts = texts[texts.task.isin(ref.index)]
    out: dict[int, dict[str, Any]] = {}
    if len(texts):
        table = annotator_wer(texts, ref)
        for user, row in table.iterrows():
            out[int(user)] = {"answers": int(row.n_tasks), "errors": int(row.errors), "words": int(row.words),
                              "wer": _finite(float(row.wer))}
    if segments and question.kind.name == "audio_segments":
        for user, group in mine.groupby("user_id"):
            counts, sims = ShapeCounts(), list[float]()
            for item, value in zip(group.item_id, group.label, strict=True):
                c, s = segment_matches(value, reference[int(item)])
                counts, sims = counts + c, sims + s
            row = out.setdefault(int(user), {"answers": len(group), "errors": None, "words": None,
                                             "wer": None})
            row.update({"matched": counts.matched, "missed": counts.fn, "extra": counts.fp,
                        "precision": counts.precision, "recall": counts.recall, "f1": counts.f1,
                        "mean_iou": counts.mean_similarity})
    return out
