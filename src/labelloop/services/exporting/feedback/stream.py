"""A training export's bytes, written as its rows are read: the items' text is held a chunk at a
time (the plan holds the aggregates, a few numbers per answer).

`hf` is a zip in the Hugging Face Hub's layout: per config (`dpo`, `sft`, `ratings`, those with
rows), Parquet shards `data/<config>/train-0000k-of-0000N.parquet` of at most `SHARD_ROWS` rows,
one pass over the items per config, then the `README.md` card.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from sqlalchemy import Connection

from labelloop.services.exporting.feedback.card import card
from labelloop.services.exporting.feedback.plan import FeedbackPlan
from labelloop.services.exporting.feedback.rows import Row, table_rows
from labelloop.services.exporting.feedback.tables import SFT_JSONL, arrow_schema, jsonl, parquet, ratings_csv
from labelloop.services.exporting.zipstream import ZipStream

SHARD_ROWS = 100_000  # rows per Parquet shard of an `hf` export
BATCH = 2_000  # rows per Parquet row group within a shard


def shard_names(config: str, rows: int, size: int) -> list[str]:
    n = max(1, -(-rows // size))
    return [f"data/{config}/train-{k:05d}-of-{n:05d}.parquet" for k in range(n)]


def _batches(rows: Iterator[Row], limit: int) -> Iterator[list[Row]]:
    """Up to `limit` rows from `rows`, in lists of at most BATCH."""
    left = limit
    while left > 0:
        batch = list(itertools.islice(rows, min(BATCH, left)))
        if not batch:
            return
        left -= len(batch)
        yield batch


def _hf(conn: Connection, project_id: int, plan: FeedbackPlan) -> Iterator[bytes]:
    zs = ZipStream()
    conversation = plan.prompt is not None and plan.prompt.conversation
    counts = plan.counts()
    shards: dict[str, list[str]] = {}
    for config in plan.configs():
        names = shard_names(config, counts[config], SHARD_ROWS)
        shards[config] = names
        schema = arrow_schema(config, conversation=conversation)
        rows = itertools.chain.from_iterable(table_rows(conn, project_id, plan, config))
        for name in names:
            # The last shard takes what is left; the others SHARD_ROWS each.
            limit = SHARD_ROWS if name != names[-1] else counts[config] + 1
            yield from zs.text(name, parquet(_batches(rows, limit), schema))
    yield from zs.text("README.md", iter([card(plan, shards).encode()]))
    yield zs.close()


def stream_feedback(conn: Connection, project_id: int, plan: FeedbackPlan) -> Iterator[bytes]:
    """The export's bytes (`conn` is a snapshot held open while they are read)."""
    fmt = plan.format
    if fmt == "hf":
        yield from _hf(conn, project_id, plan)
    elif fmt == "dpo":
        yield from jsonl(table_rows(conn, project_id, plan, "dpo"),
                         ("prompt", "chosen", "rejected", "margin", "item_id", "chosen_id", "rejected_id"))
    elif fmt == "sft":
        yield from jsonl(table_rows(conn, project_id, plan, "sft"), SFT_JSONL)
    elif fmt == "ratings":
        yield from ratings_csv(table_rows(conn, project_id, plan, "ratings"))
    else:
        yield from parquet(table_rows(conn, project_id, plan, "ratings"), arrow_schema("ratings"))
