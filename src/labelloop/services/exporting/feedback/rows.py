"""The rows of each training table for one chunk of items: the plan's decisions with the items' text.

Rows come in item id order; within an item, in the order of its candidates. A row whose item no
longer holds a candidate the plan names (the item changed since) is left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from sqlalchemy import Connection

from labelloop.services.exporting.chunks import ItemChunk, item_chunks
from labelloop.services.exporting.feedback.content import (
    candidates,
    content,
    model_name,
    prompt_messages,
    prompt_value,
)
from labelloop.services.exporting.feedback.plan import FeedbackPlan
from labelloop.services.exporting.feedback.votes import rewrite_of

Row = dict[str, Any]
CHUNK = 2000  # items read at a time


def _position(found: dict[str, Any]) -> dict[str | None, int]:
    return {rid: i for i, rid in enumerate(found)}


def dpo_rows(plan: FeedbackPlan, chunk: ItemChunk) -> list[Row]:
    assert plan.dpo is not None
    pairs = plan.preferences[plan.dpo].pairs
    target = plan.targets[plan.dpo]
    out: list[Row] = []
    for r in chunk.items:
        decided = pairs.get(r.id)
        if not decided:
            continue
        data = orjson.loads(r.data)
        found = candidates(data, target)
        pos = _position(found)
        prompt = prompt_value(plan.prompt, data)
        for p in sorted(decided, key=lambda p: sorted((pos.get(p.chosen, -1), pos.get(p.rejected, -1)))):
            chosen, rejected = content(found, p.chosen), content(found, p.rejected)
            if chosen is None or rejected is None:
                continue
            out.append({"prompt": prompt, "chosen": chosen, "rejected": rejected, "margin": p.margin,
                        "item_id": r.id, "chosen_id": p.chosen, "rejected_id": p.rejected})
    return out


def sft_rows(plan: FeedbackPlan, chunk: ItemChunk) -> list[Row]:
    """Per item: its winners' contents, then its accepted rewrites; `messages` is the row (OpenAI's
    chat format), the other keys say where it came from (Parquet keeps them, JSONL does not)."""
    out: list[Row] = []
    for r in chunk.items:
        winners = plan.winners(r.id)
        rewrites = plan.rewrites.get(r.id, [])
        if not winners and not rewrites:
            continue
        data = orjson.loads(r.data)
        prompt = prompt_messages(plan.prompt, data)
        for q, response in winners:
            text = content(candidates(data, plan.targets[q]), response)
            if text is not None:
                out.append({"messages": [*prompt, {"role": "assistant", "content": text}], "item_id": r.id,
                            "response_id": response, "source": plan.kinds[q], "question": q})
        cons = chunk.consensus.get(r.id)
        settled = orjson.loads(cons.value) if cons is not None else {}
        for q in rewrites:
            found = rewrite_of(settled.get(q)) if isinstance(settled, dict) else None
            if found is not None:
                out.append({"messages": [*prompt, {"role": "assistant", "content": found[1]}],
                            "item_id": r.id, "response_id": found[0], "source": "rewrite", "question": q})
    return out


def rating_rows(plan: FeedbackPlan, chunk: ItemChunk) -> list[Row]:
    out: list[Row] = []
    for r in chunk.items:
        rated = plan.ratings.rows.get(r.id)
        if not rated:
            continue
        data = orjson.loads(r.data)
        found = {q: candidates(data, t) for q, t in plan.targets.items() if plan.kinds[q] == "criteria"}
        rows = [x for x in rated if x.response is None or x.response in found.get(x.question, {})]
        rows.sort(key=lambda x: _position(found.get(x.question, {})).get(x.response, -1))  # stable
        out.extend({
            "item_id": r.id, "id": r.external_id, "question": x.question, "response_id": x.response,
            "model": model_name(found.get(x.question, {}), x.response), "criterion": x.criterion,
            "score": x.score, "n_ratings": x.n_ratings,
        } for x in rows)
    return out


BUILDERS = {"dpo": dpo_rows, "sft": sft_rows, "ratings": rating_rows}


def table_rows(conn: Connection, project_id: int, plan: FeedbackPlan, table: str) -> Iterator[list[Row]]:
    """One table's rows, a chunk of items at a time, in one pass over the project's items."""
    build = BUILDERS[table]
    for chunk in item_chunks(conn, project_id, size=CHUNK, with_answers=False):
        rows = build(plan, chunk)
        if rows:
            yield rows
