"""Agreement among the annotators of a release's items, for its card.

The measures and the bootstrap of the project's quality report (services/quality/reports.py),
over the human answers of the released items that are not gold: percent agreement, Krippendorff's
alpha with its 95% bootstrap interval (seeded, so a card is reproducible) and, for choice
questions, Fleiss' kappa; for other question types, the label type's own agreement measure.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import Connection, select

from labelloop.quality import bootstrap_ci, fleiss_kappa, krippendorff_alpha, percent_agreement
from labelloop.schema import LabelSchema
from labelloop.services.quality.reports import BOOTSTRAP_RESAMPLES
from labelloop.store.models import answers

MIN_ITEMS_FOR_INTERVAL = 5
# What the card says per question: the quality report's fields of the same names.
FIELDS = ("question", "type", "items", "percent_agreement", "alpha", "alpha_low", "alpha_high",
          "fleiss_kappa")


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float) else orjson.dumps(
        value, option=orjson.OPT_SORT_KEYS).decode()


def release_agreement(conn: Connection, project_id: int, schema: LabelSchema,
                      item_ids: Collection[int]) -> list[dict[str, Any]]:
    """Per question: items with two answers or more, and the agreement measures over them."""
    wanted = set(item_ids)
    rows = [r for r in conn.execute(
        select(answers.c.item_id, answers.c.user_id, answers.c.value)
        .where(answers.c.project_id == project_id, answers.c.source == "human").order_by(answers.c.id))
        if r.item_id in wanted]
    frame = pd.DataFrame(rows, columns=["item_id", "user_id", "value"]).drop_duplicates(
        ["item_id", "user_id"], keep="last")
    out = []
    for q in schema.questions:
        values = frame.value.map(lambda v, n=q.name: v.get(n))
        keep = values.notna()
        long = pd.DataFrame({"task": frame.item_id[keep], "worker": frame.user_id[keep],
                             "label": values[keep].map(_hashable)})
        pairable = int((long.groupby("task").size() >= 2).sum())
        agree = alpha = low = high = kappa = None
        if pairable and q.kind.name in ("choice", "rating"):
            level = "interval" if q.kind.name == "rating" else "nominal"
            agree = _finite(percent_agreement(long))
            alpha = _finite(krippendorff_alpha(long, level=level))  # type: ignore[arg-type]
            if alpha is not None and pairable >= MIN_ITEMS_FOR_INTERVAL:
                ci = bootstrap_ci(lambda df, lv=level: krippendorff_alpha(df, level=lv),  # type: ignore[misc]
                                  long, n_resamples=BOOTSTRAP_RESAMPLES)
                low, high = _finite(ci.low), _finite(ci.high)
            kappa = _finite(fleiss_kappa(long)) if q.kind.name == "choice" else None
        elif pairable:
            raw = [list(g) for _, g in frame.assign(v=values).dropna(subset=["v"]).groupby("item_id").v]
            agree = _finite(q.kind.agreement(q.spec, raw))
        measures = (q.name, q.kind.name, pairable, agree, alpha, low, high, kappa)
        out.append(dict(zip(FIELDS, measures, strict=True)))
    return out
