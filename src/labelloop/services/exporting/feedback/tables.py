"""The training tables' bytes: JSONL, CSV (formula cells neutralised, as the item export does) and
Parquet, each written as its rows arrive, a chunk at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from labelloop.services.exporting.cells import neutralised
from labelloop.services.exporting.feedback.rows import Row
from labelloop.services.exporting.sink import Sink

MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
RATINGS = ["item_id", "id", "question", "response_id", "model", "criterion", "score", "n_ratings"]
SFT_JSONL = ("messages",)  # OpenAI's fine-tuning format: nothing else on the line


def arrow_schema(table: str, *, conversation: bool = False) -> pa.Schema:
    if table == "dpo":
        return pa.schema([
            ("prompt", MESSAGES if conversation else pa.string()), ("chosen", pa.string()),
            ("rejected", pa.string()), ("margin", pa.float64()), ("item_id", pa.int64()),
            ("chosen_id", pa.string()), ("rejected_id", pa.string()),
        ])
    if table == "sft":
        return pa.schema([("messages", MESSAGES), ("item_id", pa.int64()), ("response_id", pa.string()),
                          ("source", pa.string()), ("question", pa.string())])
    return pa.schema([
        ("item_id", pa.int64()), ("id", pa.string()), ("question", pa.string()),
        ("response_id", pa.string()), ("model", pa.string()), ("criterion", pa.string()),
        ("score", pa.float64()), ("n_ratings", pa.int32()),
    ])


def jsonl(chunks: Iterable[list[Row]], keys: tuple[str, ...] | None = None) -> Iterator[bytes]:
    for rows in chunks:
        out = bytearray()
        for row in rows:
            out += orjson.dumps(row if keys is None else {k: row[k] for k in keys})
            out += b"\n"
        yield bytes(out)


def ratings_csv(chunks: Iterable[list[Row]]) -> Iterator[bytes]:

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(RATINGS)
    for rows in chunks:
        for row in rows:
            w.writerow(["" if row[k] is None else neutralised(row[k]) if isinstance(row[k], str) else row[k]
                        for k in RATINGS])
        yield buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode()


def parquet(chunks: Iterable[list[Row]], schema: pa.Schema) -> Iterator[bytes]:
    """A Parquet file, one row group per chunk; a file with no rows still has the schema."""
    sink = Sink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
    for rows in chunks:
        writer.write_table(pa.Table.from_pylist([{k: r[k] for k in schema.names} for r in rows],
                                                schema=schema))
        yield sink.drain()
    writer.close()
    yield sink.drain()
