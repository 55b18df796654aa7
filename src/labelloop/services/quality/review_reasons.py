"""Why an item waits for review: reason codes kept in `items.review_reason` (comma-separated).

Every path that sends an item to review names its reason, so the reviewer is told why the
item is there: the consensus stayed unsure, someone flagged it, or a round of the learning
loop suspects its label (the loop's own codes, with the model's answer kept on the item). The
reasons stay after the decision, as the record of why the item was reviewed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, literal

from labelloop.store.models import items

PENDING, DONE = "pending", "done"  # items.review_state: waiting, and decided
LOW_CONFIDENCE = "low_confidence"  # the consensus stayed below the project's `review_below`
FLAGGED = "flagged"  # a reviewer or manager sent the item by hand
UNLIKELY_LABEL = "unlikely_label"  # a loop round: the label's out-of-fold probability is in the low group
MODEL_DISAGREES = "model_disagrees"  # a loop round: the model confidently answers another class
CONFIDENT_LEARNING = "confident_learning"  # UNLIKELY_LABEL before the mixture (kept on items)
REASONS = (LOW_CONFIDENCE, FLAGGED, UNLIKELY_LABEL, MODEL_DISAGREES, CONFIDENT_LEARNING)


def sent_to_review(*reasons: str) -> dict[str, Any]:
    """UPDATE values that put an item in the review queue for `reasons`.

    An item already waiting keeps its reasons and gains the new ones (each once); any other
    item (never reviewed, or reviewed before and sent back) starts afresh with these. The SET
    expressions see the row as it was, on SQLite and PostgreSQL alike.
    """
    assert reasons and all(r in REASONS for r in reasons)
    col = items.c.review_reason
    waiting = and_(items.c.review_state == PENDING, col.is_not(None))
    kept: Any = col
    for r in reasons:
        # `,a,b,` contains `,r,` exactly when r is one of the codes (no code contains a comma).
        kept = case((("," + col + ",").contains(f",{r},", autoescape=True), kept), else_=kept + f",{r}")
    return {
        "review_state": PENDING,
        "review_reason": case((waiting, kept), else_=literal(",".join(reasons))),
    }


def reasons_of(stored: str | None) -> list[str]:
    """The reason codes of an item, oldest first."""
    return [r for r in (stored or "").split(",") if r]
