"""What the box and track consensus share (box_consensus.py, track_consensus.py): an annotator's
skill from the aggregator's recall and precision, and an item's confidence from its clusters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def f1_skills(recall: pd.Series, precision: pd.Series) -> pd.Series:
    """Per annotator, F1 = 2PR / (P + R) in [0, 1], on recall's index: an annotator with no
    precision (nothing drawn) counts P = 1; one with neither, 0."""
    r = recall.astype(float)
    p = precision.reindex(r.index).astype(float).fillna(1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = (2 * p * r / (p + r)).fillna(0.0)
    return f1.clip(0.0, 1.0)


def item_confidence(clusters: pd.DataFrame) -> dict[int, float]:
    """Per task, the mean over its clusters of max(P(real), 1 - P(real)): how sure the aggregate is
    of what it kept and what it dropped (columns ``task``, ``p_real``)."""
    if clusters.empty:
        return {}
    p = clusters.p_real.astype(float)
    decided = np.maximum(p, 1.0 - p)
    return {int(t): float(v) for t, v in decided.groupby(clusters.task.to_numpy()).mean().items()}
