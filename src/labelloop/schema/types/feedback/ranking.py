"""Ranking: the candidate responses in order, best first.

A value is `{"order": ["r2", "r1", "r3"]}`: candidate ids, no repeats, every candidate of the
item unless the question allows a `partial` ranking (then the best few, the rest unranked).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from labelloop.schema.label_type import (
    Aggregate,
    LabelType,
    QuestionBase,
    Target,
    ValueProblem,
    register,
    weights_or_ones,
)
from labelloop.schema.types.feedback.candidates import candidate_id, check_keys, compact_json, responses_of


class RankingQuestion(QuestionBase):
    type: Literal["ranking"] = "ranking"
    partial: bool = False  # rank only the best few; by default every candidate is ranked


def kendall_tau(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Kendall's tau between two rankings over the ids both rank (None with fewer than two).

    tau = (C - D) / (k choose 2), C and D the concordant and discordant pairs of the k common
    ids (Kendall 1938); rankings hold no ties, so this is tau-a and tau-b at once.
    """
    pos_b = {x: i for i, x in enumerate(b)}
    common = [pos_b[x] for x in a if x in pos_b]  # b's positions, in a's order
    k = len(common)
    if k < 2:
        return None
    score = sum(1 if common[j] > common[i] else -1 for i in range(k) for j in range(i + 1, k))
    return score / (k * (k - 1) / 2)


class Ranking(LabelType[RankingQuestion]):
    name = "ranking"
    question_model = RankingQuestion
    target_kinds = frozenset({"responses"})
    target_required = True

    def validate(self, question: RankingQuestion, value: Any, target: Target = None) -> Any:
        check_keys(value, {"order": True}, "an object with the order of the candidates")
        order = value["order"]
        if not isinstance(order, list) or not order:
            raise ValueProblem("expected a non-empty list of candidate ids, best first", path=".order")
        candidates = responses_of(target)
        seen: dict[str, int] = {}
        for i, raw in enumerate(order):
            rid = candidate_id(raw, candidates, f".order[{i}]")
            if rid in seen:
                raise ValueProblem(f"{rid!r} is ranked twice (first at [{seen[rid]}])", path=f".order[{i}]")
            seen[rid] = i
        if candidates is not None and not question.partial:
            missing = [rid for rid in candidates.ids if rid not in seen]
            if missing:
                raise ValueProblem(
                    f"every candidate must be ranked; missing: {', '.join(missing)}", path=".order"
                )
        return {"order": list(order)}

    def aggregate(
        self, question: RankingQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        """Weighted Borda count (de Borda 1781): of n candidates, the one ranked at position p
        (0 = best) gets n - 1 - p points; candidates a partial ranking leaves out share the points
        of the places left. `scores` are the weighted mean points over n - 1, in [0, 1]; the order
        is by score, equal scores in the order first seen. Confidence: the weighted mean over
        annotators of (1 + tau) / 2 between their ranking and the consensus.
        """
        w = weights_or_ones(values, weights)
        total = sum(w)
        ids: dict[str, None] = {}
        for v in values:
            ids.update(dict.fromkeys(v["order"]))
        if total <= 0 or not ids:
            return Aggregate(None, 0.0)
        n = len(ids)
        points = dict.fromkeys(ids, 0.0)
        for v, wi in zip(values, w, strict=True):
            order = v["order"]
            rest = (n - 1 - len(order)) / 2  # the mean of the points of the places left
            for p, rid in enumerate(order):
                points[rid] += wi * (n - 1 - p)
            for rid in ids:
                if rid not in order:
                    points[rid] += wi * rest
        scale = total * max(n - 1, 1)
        scores = {rid: s / scale for rid, s in points.items()}
        consensus = sorted(ids, key=lambda rid: -scores[rid])
        agree = [(kendall_tau(v["order"], consensus), wi) for v, wi in zip(values, w, strict=True)]
        counted = [(tau, wi) for tau, wi in agree if tau is not None]
        weight = sum(wi for _, wi in counted)
        sure = sum(wi * (1 + tau) / 2 for tau, wi in counted) / weight if weight > 0 else 1.0
        return Aggregate({"order": consensus, "scores": scores}, sure)

    def agreement(
        self, question: RankingQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """Mean over items of the mean pairwise Kendall tau, mapped to [0, 1] as (1 + tau) / 2;
        annotator pairs with fewer than two candidates ranked in common are left out."""
        shares: list[float] = []
        for values in values_per_item:
            taus = [
                tau for i, a in enumerate(values) for b in values[i + 1:]
                if (tau := kendall_tau(a["order"], b["order"])) is not None
            ]
            if taus:
                shares.append(sum((1 + t) / 2 for t in taus) / len(taus))
        return sum(shares) / len(shares) if shares else None

    def matches_gold(self, question: RankingQuestion, value: Any, gold: Any) -> bool:
        """The same order as the gold's, or as the consensus's (whose scores are not compared)."""
        return isinstance(value, dict) and isinstance(gold, dict) and value.get("order") == gold.get("order")

    def export_cell(self, question: RankingQuestion, value: Any) -> str | None:
        """The order (of an answer or of the consensus) as ids joined by ' > ', best first."""
        if isinstance(value, dict) and isinstance(value.get("order"), list):
            return " > ".join(str(rid) for rid in value["order"])
        return compact_json(value)


register(Ranking())
