r"""Which suspected label errors a round flags, and flagging them (on the items, and in review).

A model must earn the right to flag before anything it says reaches a reviewer:

- **Enough labels per class.** Only classes with at least `label_error_min_per_class` labelled
  items count as known; with fewer than two known classes nothing is flagged, and an item is
  flagged only when both its label and the model's answer are known classes (a class the model
  has seen three times says little about which items belong to it).
- **Better than chance, shown with confidence.** Let :math:`c` of the :math:`n` labelled items be
  predicted right out of fold, and :math:`p_0 = \max_k n_k / n` the accuracy of always answering
  the commonest class. Treating the out-of-fold answers as :math:`n` Bernoulli trials, the
  one-sided Clopper-Pearson lower bound of the accuracy at level :math:`1 - \alpha` is
  :math:`L = B^{-1}(\alpha;\ c,\ n - c + 1)` (the Beta quantile; :math:`L = 0` for :math:`c = 0`).
  The model may flag only when :math:`L > p_0`, which is the exact one-sided binomial test of
  :math:`H_0: \text{accuracy} \le p_0` rejected at level :math:`\alpha` (C. J. Clopper and
  E. S. Pearson, "The use of confidence or fiducial limits illustrated in the case of the
  binomial", Biometrika 26(4), 1934). :math:`p_0` is measured on the same items, which only
  favours chance: the test errs towards flagging nothing.

Then a suspect (an unlikely label, by the mixture of self-confidences of
`labelloop.learn.find_label_issues`, or a confident disagreement with the consensus) is flagged
only when the model's confidence in its own answer is at least `label_error_confidence`: weaker
suspicions are flagged nowhere, so the data browser's "suspected" items and the ones a round sends
to review are the same. An item a reviewer decided is never flagged: the decision stands unless a
person answers the item after it, and only then may a round send it back to review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import beta, binom
from sqlalchemy import Connection, bindparam, func, or_, select, update

from labelloop.services.quality.consensus import REVIEW
from labelloop.services.quality.review_reasons import (
    DONE,
    MODEL_DISAGREES,
    UNLIKELY_LABEL,
    sent_to_review,
)
from labelloop.store.db import Database
from labelloop.store.models import answers, consensus, items

ALPHA = 0.05  # the gate's test level: "better than chance at 95%"


@dataclass(frozen=True)
class Gate:
    """Whether a round's model may flag label errors, and why (for the round's metrics)."""

    allowed: bool
    reason: str | None  # why not, in words (None when allowed)
    known_classes: np.ndarray  # bool per class: enough labelled items to flag in or out of it
    accuracy: float | None = None
    lower_bound: float | None = None
    chance: float | None = None
    needed: float | None = None  # the least accuracy that passes on this many items (None: none does)

    def metrics(self, min_per_class: int) -> dict[str, Any]:
        return {"allowed": self.allowed, "reason": self.reason, "min_per_class": min_per_class,
                "accuracy": self.accuracy, "lower_bound": self.lower_bound, "chance": self.chance,
                "needed_accuracy": self.needed, "level": 1 - ALPHA}


def lower_bound(correct: int, n: int, alpha: float = ALPHA) -> float:
    """One-sided Clopper-Pearson lower bound of a binomial proportion at level 1 - alpha."""
    return 0.0 if correct <= 0 else float(beta.ppf(alpha, correct, n - correct + 1))


def least_passing(n: int, chance: float, alpha: float = ALPHA) -> int | None:
    """The fewest right answers out of n whose lower bound beats `chance` (None: not even n)."""
    c = int(binom.isf(alpha, n, chance)) + 1  # the binomial test's critical value, then exact
    while c <= n and lower_bound(c, n, alpha) <= chance:
        c += 1
    while c > 1 and lower_bound(c - 1, n, alpha) > chance:
        c -= 1
    return c if c <= n else None


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def gate(y: np.ndarray, oof: np.ndarray | None, *, n_classes: int, min_per_class: int) -> Gate:
    """May the model that gave out-of-fold probabilities `oof` for labels `y` flag (module docstring)?"""
    counts = np.bincount(y, minlength=n_classes)
    known = counts >= min_per_class
    if oof is None:
        return Gate(False, "the model gave no out-of-fold predictions", known)
    if known.sum() < 2:
        return Gate(False, f"too few labels to flag: needs {min_per_class} labelled items in each of "
                           f"2 classes or more (the most in one class: {int(counts.max())})", known)
    n = int(y.size)
    correct = int((oof.argmax(axis=1) == y).sum())
    accuracy, chance = correct / n, float(counts.max()) / n
    low = lower_bound(correct, n)
    need = least_passing(n, chance)
    needed = None if need is None else need / n
    if low > chance:
        return Gate(True, None, known, accuracy, low, chance, needed)
    wants = (f"needs ≥ {_pct(need / n)} on {n} items" if need is not None
             else f"not even 100% on {n} items would show it")
    return Gate(False, f"model not yet better than chance: {_pct(accuracy)} ({wants} at "
                       f"{_pct(1 - ALPHA)}; always answering the commonest class gets {_pct(chance)})",
                known, accuracy, low, chance, needed)


@dataclass(frozen=True)
class Suspect:
    """Why a round suspects an item's label, and the model's out-of-fold answer for it."""

    reasons: tuple[str, ...]
    answer: dict[str, Any]  # {value: {question: class}, confidence}


def suspects(
    lab_ids: np.ndarray, y: np.ndarray, oof: np.ndarray, issues: np.ndarray, disagree: np.ndarray, *,
    known: np.ndarray, min_confidence: float, question: str, classes: list[str],
) -> dict[int, Suspect]:
    """Item id -> Suspect, most suspect first (the unlikely labels' order, then disagreements).

    Only suspicions the model holds with at least `min_confidence`, between known classes
    (`record` then leaves out items whose reviewer decision stands).
    """
    guess, sure = oof.argmax(axis=1), oof.max(axis=1)
    eligible = (sure >= min_confidence) & known[y] & known[guess]
    reasons: dict[int, list[str]] = {}
    for found, reason in ((issues, UNLIKELY_LABEL), (disagree, MODEL_DISAGREES)):
        for k in found:
            if eligible[k]:
                reasons.setdefault(int(k), []).append(reason)
    return {
        int(lab_ids[k]): Suspect(tuple(why), {"value": {question: classes[int(guess[k])]},
                                              "confidence": float(sure[k])})
        for k, why in reasons.items()
    }


def decided_items(conn: Connection, project_id: int) -> tuple[set[int], set[int]]:
    """Items a reviewer decided: (those whose decision stands, those a later answer reopened)."""
    final = select(consensus.c.item_id).where(consensus.c.project_id == project_id,
                                              consensus.c.final.is_(True))
    last: dict[int, dict[str, int]] = {}
    for r in conn.execute(
        select(answers.c.item_id, answers.c.source, func.max(answers.c.id).label("last"))
        .where(answers.c.project_id == project_id, answers.c.source.in_(("human", REVIEW)),
               answers.c.item_id.in_(final))
        .group_by(answers.c.item_id, answers.c.source)
    ):
        last.setdefault(int(r.item_id), {})[r.source] = int(r.last)
    reopened = {i for i, by in last.items() if by.get("human", 0) > by.get(REVIEW, 0) > 0}
    return set(conn.execute(final).scalars()) - reopened, reopened


_CLEAR_FLAGS = {"label_issue": None, "label_issue_version": None, "label_issue_answer": None}
_FLAG = update(items).where(items.c.id == bindparam("iid")).values(
    label_issue=bindparam("why"), label_issue_answer=bindparam("answer"),
    label_issue_version=bindparam("version"),
)


def record(db: Database, project_id: int, version: int, found: dict[int, Suspect]) -> list[int]:
    """In one transaction: clear the previous round's flags, flag these suspects on their items
    (the data browser filters on them) and send them to review with their reasons, leaving out
    items whose reviewer decision stands. The items flagged, most suspect first."""

    def go(conn: Connection) -> list[int]:
        conn.execute(update(items).where(items.c.project_id == project_id, items.c.label_issue.is_not(None))
                     .values(**_CLEAR_FLAGS))
        # Read in this transaction, not the round's snapshot: a decision made while the model
        # trained stands too.
        decided, reopened = decided_items(conn, project_id)
        kept = {i: s for i, s in found.items() if i not in decided}
        if not kept:
            return []
        conn.execute(_FLAG, [
            {"iid": i, "why": ",".join(s.reasons), "answer": s.answer, "version": version}
            for i, s in kept.items()
        ])
        # The flags just set pick the suspects (no long IN list), one statement per set of reasons;
        # the state check also holds against a decision committed after the read above.
        for why in {s.reasons for s in kept.values()}:
            conn.execute(update(items).where(
                items.c.project_id == project_id, items.c.label_issue == ",".join(why),
                or_(items.c.review_state.is_(None), items.c.review_state != DONE,
                    items.c.id.in_(sorted(reopened & set(kept)))),
            ).values(**sent_to_review(*why)))
        return list(kept)

    return db.run(go)
