"""Agreement between annotators on the feedback questions, for the quality report: Fleiss' kappa
on preferences, the mean pairwise Kendall's tau on rankings, span F1 on flagged words
(docs/feedback.md, "Aggregation and agreement"), each the library's function.

- preference: each answer is a category, the first candidate of the pair wins, tie, or loses,
  in a unit per (item, unordered pair) (`preference_fleiss_kappa`, Fleiss 1971); an annotator
  shown the pair the other way round who prefers the same response agrees;
- ranking: Kendall's tau between every two annotators' rankings of one item over the candidates
  both ranked, averaged over those pairs (`mean_kendall_tau`);
- response_spans: the micro F1 of exact spans (start, end and label) between every two annotators
  who flagged the same response of an item, averaged over annotator pairs weighted by the
  responses they share (`pairwise_span_agreement`).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from labelloop.quality import pairwise_span_agreement
from labelloop.quality.pairwise import preference_fleiss_kappa
from labelloop.quality.rankings import mean_kendall_tau
from labelloop.schema import Question
from labelloop.services.quality.feedback_consensus import comparisons, key


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def feedback_agreement(question: Question, answers: pd.DataFrame) -> dict[str, float | None]:
    """`fleiss_kappa`, `kendall_tau` or `span_f1` of a question's answers (columns `item_id`,
    `user_id`, `label`: one row per item and annotator); empty for other questions."""
    kind = question.kind.name
    if answers.empty or kind not in ("preference", "ranking", "response_spans"):
        return {}
    if kind == "preference":
        return {"fleiss_kappa": _finite(preference_fleiss_kappa(comparisons(answers)))}
    if kind == "ranking":
        table = pd.DataFrame({"task": answers.item_id.to_numpy(), "worker": answers.user_id.to_numpy(),
                              "ranking": [list(v["order"]) for v in answers.label]})
        return {"kendall_tau": _finite(mean_kendall_tau(table))}
    spans: list[Any] = [[[s["start"], s["end"], s["label"]] for s in v["spans"]] for v in answers.label]
    table = pd.DataFrame({
        "task": [key(int(i), v["response"]) for i, v in zip(answers.item_id, answers.label, strict=True)],
        "worker": answers.user_id.to_numpy(), "spans": spans,
    })
    return {"span_f1": _finite(pairwise_span_agreement(table))}
