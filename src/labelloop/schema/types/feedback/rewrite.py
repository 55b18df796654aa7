"""Rewrite: the annotator edits a candidate response into a better one (data for fine-tuning).

A value is `{"response": "r1", "text": "...", "diff": [[op, a0, a1, b0, b1], ...]}`. The server
computes `diff` from the candidate's `content` (a) and `text` (b), ignoring any the client
sends: difflib's opcodes on characters (`equal`, `replace`, `delete`, `insert`, with the
character ranges of a and b). Without the item's candidates (a caller that only canonicalises)
`diff` is null.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from labelloop.schema.fields import MAX_RESPONSE_CHARS
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

# difflib compares characters in time up to the product of the two lengths (and its worst cases,
# long runs of one character, reach it): past this many character pairs, texts are compared line
# by line first, then the changed lines character by character while the budget lasts, and
# what is left is one `replace`. About 0.2 s at worst (measured: 1,000 x 1,000 characters of one
# letter), so a hostile answer cannot hold the submit, and SQLite's write lock, for long.
DIFF_BUDGET = 1_000_000
KEYS = {"response": True, "text": True, "diff": False}
Opcode = list[Any]  # [op, a0, a1, b0, b1]


class RewriteQuestion(QuestionBase):
    type: Literal["rewrite"] = "rewrite"
    min_change: int = Field(1, ge=0)  # characters that must differ from the original


def char_diff(a: str, b: str) -> list[Opcode]:
    """difflib's opcodes turning `a` into `b`, on characters (SequenceMatcher, autojunk off).

    Texts whose lengths multiply to more than DIFF_BUDGET are compared without their common
    prefix and suffix, then as DIFF_BUDGET says: the opcodes still turn `a` into `b` exactly,
    but may be longer than difflib's own on the whole texts.
    """
    if len(a) * len(b) <= DIFF_BUDGET:
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        return [list(op) for op in matcher.get_opcodes()]
    n = min(len(a), len(b))
    p = next((i for i in range(n) if a[i] != b[i]), n)
    s = next((i for i in range(n - p) if a[-1 - i] != b[-1 - i]), n - p)
    ops: list[Opcode] = [["equal", 0, p, 0, p]] if p else []
    ops += _core(a, b, p, len(a) - s, p, len(b) - s, [DIFF_BUDGET], by_lines=True)
    if s:
        ops.append(["equal", len(a) - s, len(a), len(b) - s, len(b)])
    merged: list[Opcode] = []
    for op in ops:
        if merged and op[0] == "equal" == merged[-1][0]:
            merged[-1][2], merged[-1][4] = op[2], op[4]
        else:
            merged.append(op)
    return merged


def _core(a: str, b: str, a0: int, a1: int, b0: int, b1: int, budget: list[int],
          *, by_lines: bool) -> list[Opcode]:
    n, m = a1 - a0, b1 - b0
    if not n and not m:
        return []
    if not n or not m:
        return [["insert" if not n else "delete", a0, a1, b0, b1]]
    if n * m <= budget[0]:
        budget[0] -= n * m
        matcher = difflib.SequenceMatcher(None, a[a0:a1], b[b0:b1], autojunk=False)
        return [[op, a0 + i0, a0 + i1, b0 + j0, b0 + j1] for op, i0, i1, j0, j1 in matcher.get_opcodes()]
    lines_a, lines_b = a[a0:a1].splitlines(keepends=True), b[b0:b1].splitlines(keepends=True)
    if not by_lines or len(lines_a) * len(lines_b) > budget[0] or max(len(lines_a), len(lines_b)) < 2:
        return [["replace", a0, a1, b0, b1]]
    budget[0] -= len(lines_a) * len(lines_b)
    starts_a, starts_b = _starts(lines_a, a0), _starts(lines_b, b0)
    out: list[Opcode] = []
    matcher = difflib.SequenceMatcher(None, lines_a, lines_b, autojunk=False)
    for op, i0, i1, j0, j1 in matcher.get_opcodes():
        c = [starts_a[i0], starts_a[i1], starts_b[j0], starts_b[j1]]
        if op == "equal":
            out.append(["equal", *c])
        else:
            out += _core(a, b, c[0], c[1], c[2], c[3], budget, by_lines=False)
    return out


def _starts(lines: list[str], offset: int) -> list[int]:
    """Where each line starts, and where the last ends."""
    starts = [offset]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def changed(diff: Sequence[Opcode]) -> int:
    """Characters changed: for each opcode that is not `equal`, the longer of its two ranges."""
    return sum(max(a1 - a0, b1 - b0) for op, a0, a1, b0, b1 in diff if op != "equal")


def _normal(text: str) -> str:
    return " ".join(text.split())


class Rewrite(LabelType[RewriteQuestion]):
    name = "rewrite"
    question_model = RewriteQuestion
    target_kinds = frozenset({"responses"})
    target_required = True

    def validate(self, question: RewriteQuestion, value: Any, target: Target = None) -> Any:
        check_keys(value, KEYS, "an object with response and text")
        candidates = responses_of(target)
        rid = candidate_id(value["response"], candidates, ".response")
        text = value["text"]
        if not isinstance(text, str):
            raise ValueProblem(f"expected the rewritten text as a string, got {type(text).__name__}",
                               path=".text")
        if len(text) > MAX_RESPONSE_CHARS:
            raise ValueProblem(f"at most {MAX_RESPONSE_CHARS:,} characters", path=".text")
        original = candidates.content(rid) if candidates is not None else None
        diff = None if original is None else char_diff(original, text)
        if diff is not None and changed(diff) < question.min_change:
            raise ValueProblem(
                f"the rewrite changes {changed(diff)} characters of the response; "
                f"at least {question.min_change} must change", path=".text",
            )
        return {"response": rid, "text": text, "diff": diff}

    def aggregate(
        self, question: RewriteQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        """The rewrite that more than half the weight wrote (same response, same text after folding
        whitespace), or null when none has a majority; confidence is the best-supported
        rewrite's share either way."""
        w = weights_or_ones(values, weights)
        support: dict[tuple[str, str], float] = {}
        first: dict[tuple[str, str], Any] = {}
        for v, wi in zip(values, w, strict=True):
            key = (v["response"], _normal(v["text"]))
            support[key] = support.get(key, 0.0) + wi
            first.setdefault(key, v)
        total = sum(support.values())
        if total <= 0:
            return Aggregate(None, 0.0)
        best = max(support, key=support.__getitem__)  # the first of equals wins
        share = support[best] / total
        return Aggregate(first[best] if share > 0.5 else None, share)

    def agreement(
        self, question: RewriteQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """Mean over items of the share of annotator pairs who, rewriting the same response, wrote
        the same text (whitespace folded); pairs on different responses are left out."""
        shares: list[float] = []
        for values in values_per_item:
            same = comparable = 0
            for i, a in enumerate(values):
                for b in values[i + 1:]:
                    if a["response"] == b["response"]:
                        comparable += 1
                        same += _normal(a["text"]) == _normal(b["text"])
            if comparable:
                shares.append(same / comparable)
        return sum(shares) / len(shares) if shares else None

    def matches_gold(self, question: RewriteQuestion, value: Any, gold: Any) -> bool:
        """The same response rewritten into the same text, whitespace folded (the diff follows)."""
        if not isinstance(value, dict) or not isinstance(gold, dict):
            return False
        return bool(value.get("response") == gold.get("response")
                    and _normal(str(value.get("text"))) == _normal(str(gold.get("text"))))

    def export_cell(self, question: RewriteQuestion, value: Any) -> str | None:
        """The rewrite (response, text and diff) as compact JSON."""
        return compact_json(value)


register(Rewrite())
