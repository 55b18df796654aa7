"""The answers a training export aggregates, read from the database in one pass.

Human answers only (not a model's pre-labels, nor a reviewer's decision recorded as an answer),
and per annotator and item the last one (a revision replaces what it corrects): the rule
consensus follows (services/quality/consensus.py). Only the values of the questions asked for
are kept, so memory is what the aggregation needs, not the answers' whole text.
"""

from __future__ import annotations

from collections.abc import Collection

import orjson
from sqlalchemy import Connection, Text, cast, select

from labelloop.services.exporting.feedback.aggregate import Vote
from labelloop.store.models import answers, consensus

BATCH = 5000  # rows fetched at a time


def latest_votes(conn: Connection, project_id: int, questions: Collection[str]) -> dict[str, list[Vote]]:
    """Per question, each annotator's latest value on each item (items in id order).

    Read in (item, annotator, answer id) order, so an annotator's latest answer to an item is the
    last of a run of rows and nothing but the current run is held."""
    out: dict[str, list[Vote]] = {q: [] for q in questions}
    rows = conn.execute(
        select(answers.c.item_id, answers.c.user_id, cast(answers.c.value, Text).label("value"))
        .where(answers.c.project_id == project_id, answers.c.source == "human")
        .order_by(answers.c.item_id, answers.c.user_id, answers.c.id)
        .execution_options(yield_per=BATCH)
    )
    last: tuple[int, int] | None = None
    text: str | None = None
    for r in rows:
        if last is not None and (r.item_id, r.user_id) != last:
            _keep(out, last, text)
        last, text = (r.item_id, r.user_id), r.value
    if last is not None:
        _keep(out, last, text)
    return out


def _keep(out: dict[str, list[Vote]], who: tuple[int, int], text: str | None) -> None:
    value = orjson.loads(text) if text is not None else None
    if isinstance(value, dict):
        for q, votes in out.items():
            if value.get(q) is not None:
                votes.append(Vote(who[0], who[1], value[q]))


def accepted_rewrites(conn: Connection, project_id: int, questions: Collection[str]) -> dict[int, list[str]]:
    """Items whose consensus (the rewrite type's aggregate, or a reviewer's final decision) holds
    a rewrite, with the questions that hold one. The text itself is read as the file is written."""
    out: dict[int, list[str]] = {}
    if not questions:
        return out
    rows = conn.execute(
        select(consensus.c.item_id, cast(consensus.c.value, Text).label("value"))
        .where(consensus.c.project_id == project_id)
        .order_by(consensus.c.item_id)
        .execution_options(yield_per=BATCH)
    )
    for r in rows:
        value = orjson.loads(r.value)
        for q in questions:
            if isinstance(value, dict) and rewrite_of(value.get(q)) is not None:
                out.setdefault(r.item_id, []).append(q)
    return out


def rewrite_of(value: object) -> tuple[str, str] | None:
    """(response id, rewritten text) of a rewrite value, or None."""
    if not isinstance(value, dict):
        return None
    response, text = value.get("response"), value.get("text")
    return (response, text) if isinstance(response, str) and isinstance(text, str) else None
