"""Pairwise preference: which of two candidate responses is better (A / B / tie).

A value is `{"left", "right", "winner", "strength", "reason"}`: the two candidates' ids in the
order the annotator saw them, the winner as `"left"`, `"right"` or `"tie"`, an optional 1-3
"how much better" and an optional reason (docs/feedback.md). Sides are kept as shown, so
position bias can be measured; aggregation and agreement compare unordered pairs.
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

MAX_REASON = 10_000
KEYS = {"left": True, "right": True, "winner": True, "strength": False, "reason": False}
Pair = tuple[str, str]


class PreferenceQuestion(QuestionBase):
    type: Literal["preference"] = "preference"
    ties: bool = True
    strength: bool = False  # ask how much better (1-3)
    reason: Literal["none", "optional", "required"] = "none"


def _outcome(value: dict[str, Any]) -> tuple[Pair, str]:
    """The unordered pair (ids sorted) and what won it: a candidate's id, or '' for a tie."""
    left, right, winner = value["left"], value["right"], value["winner"]
    pair = (left, right) if left < right else (right, left)
    return pair, {"left": left, "right": right}.get(winner, "")


class Preference(LabelType[PreferenceQuestion]):
    name = "preference"
    question_model = PreferenceQuestion
    target_kinds = frozenset({"responses"})
    target_required = True

    def validate(self, question: PreferenceQuestion, value: Any, target: Target = None) -> Any:
        check_keys(value, KEYS, "an object with left, right and winner")
        candidates = responses_of(target)
        left = candidate_id(value["left"], candidates, ".left")
        right = candidate_id(value["right"], candidates, ".right")
        if left == right:
            raise ValueProblem("left and right must be two different candidates", path=".right")
        winner = value["winner"]
        allowed = ("left", "right", "tie") if question.ties else ("left", "right")
        if winner not in allowed:
            raise ValueProblem(f"{winner!r} is not a winner (one of: {', '.join(allowed)})", path=".winner")
        strength = value.get("strength")
        if strength is not None:
            if not question.strength:
                raise ValueProblem("this question does not ask how much better", path=".strength")
            if isinstance(strength, bool) or not isinstance(strength, int) or not 1 <= strength <= 3:
                raise ValueProblem(f"{strength!r} is not a strength (1, 2 or 3)", path=".strength")
            if winner == "tie":
                raise ValueProblem("a tie has no strength", path=".strength")
        reason = value.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise ValueProblem(f"expected the reason as a string, got {type(reason).__name__}",
                               path=".reason")
        reason = (reason or "").strip() or None
        if reason is not None and question.reason == "none":
            raise ValueProblem("this question does not ask for a reason", path=".reason")
        if reason is None and question.reason == "required":
            raise ValueProblem("a reason is required", path=".reason")
        if reason is not None and len(reason) > MAX_REASON:
            raise ValueProblem(f"at most {MAX_REASON:,} characters", path=".reason")
        return {"left": left, "right": right, "winner": winner, "strength": strength, "reason": reason}

    def aggregate(
        self, question: PreferenceQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        """The weighted majority outcome of each pair compared, and the item's winner.

        Per unordered pair (ids sorted: `left` < `right`), the outcome with the most weight wins;
        when neither candidate has more weight than the other and than the ties, it is a tie. Its
        `share` is the winning outcome's weight over the pair's. The item's `winner` is the
        candidate that wins the most pairs (Copeland), or null when none does alone or it is a tie.
        Confidence: the shares averaged with the pairs' weights.
        """
        w = weights_or_ones(values, weights)
        votes: dict[Pair, dict[str, float]] = {}
        for v, wi in zip(values, w, strict=True):
            pair, won = _outcome(v)
            tally = votes.setdefault(pair, {pair[0]: 0.0, pair[1]: 0.0, "": 0.0})
            tally[won] += wi
        pairs: list[dict[str, Any]] = []
        wins: dict[str, int] = {}
        sure = total = 0.0
        for (a, b), tally in votes.items():
            wa, wb, wt = tally[a], tally[b], tally[""]
            weight = wa + wb + wt
            if weight <= 0:
                continue
            best = max(wa, wb, wt)
            side = "left" if wa > max(wb, wt) else "right" if wb > max(wa, wt) else "tie"
            if side != "tie":
                won = a if side == "left" else b
                wins[won] = wins.get(won, 0) + 1
            pairs.append({"left": a, "right": b, "winner": side, "share": best / weight,
                          "left_votes": wa, "right_votes": wb, "tie_votes": wt})
            sure += best
            total += weight
        if not pairs:
            return Aggregate(None, 0.0)
        ranked = sorted(wins.items(), key=lambda kv: -kv[1])
        winner = ranked[0][0] if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]) else None
        return Aggregate({"winner": winner, "pairs": pairs}, sure / total)

    def agreement(
        self, question: PreferenceQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """Mean over items of the share of annotator pairs who, having compared the same two
        candidates (on whichever sides), chose the same outcome; pairs who compared different
        candidates are left out, and so are items without such a pair."""
        shares: list[float] = []
        for values in values_per_item:
            outcomes = [_outcome(v) for v in values]
            same = comparable = 0
            for i, (pair_i, won_i) in enumerate(outcomes):
                for pair_j, won_j in outcomes[i + 1:]:
                    if pair_i == pair_j:
                        comparable += 1
                        same += won_i == won_j
            if comparable:
                shares.append(same / comparable)
        return sum(shares) / len(shares) if shares else None

    def matches_gold(self, question: PreferenceQuestion, value: Any, gold: Any) -> bool:
        """Right when it prefers the same candidate of the same pair (or ties them), on whichever
        sides they were shown; strength and reason are not scored. Against a consensus, the
        outcome of the pair the value compared."""
        if not isinstance(value, dict) or not isinstance(gold, dict):
            return False
        pair, won = _outcome(value)
        if "pairs" not in gold:
            return (pair, won) == _outcome(gold)
        for settled in gold["pairs"]:
            if (settled["left"], settled["right"]) == pair:
                side = settled["winner"]
                return won == {"left": pair[0], "right": pair[1]}.get(side, "")
        return False

    def export_cell(self, question: PreferenceQuestion, value: Any) -> str | None:
        """The value (or the aggregate) as compact JSON."""
        return compact_json(value)


register(Preference())
