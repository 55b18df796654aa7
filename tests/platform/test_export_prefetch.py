"""`prefetched` (services/exporting/chunks.py): the same chunks in the same order, read ahead by
at most `depth`, the reader's failure raised to the consumer, and the reading thread ended
whenever the consumer stops, so the export's connection may be closed then."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from labelloop.services.exporting.chunks import prefetched


def numbers(n: int, read: list[int], fail_at: int | None = None) -> Iterator[int]:
    for k in range(n):
        if k == fail_at:
            raise OSError(f"the database went away at chunk {k}")
        read.append(k)
        yield k


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "labelloop-export-read"]


def test_same_chunks_in_order() -> None:
    read: list[int] = []
    assert list(prefetched(numbers(50, read), depth=2)) == list(range(50))
    assert read == list(range(50))
    assert reader_threads() == []


def test_reads_at_most_depth_ahead_and_ends_when_the_consumer_stops() -> None:
    read: list[int] = []
    chunks = prefetched(numbers(1000, read), depth=3)
    assert next(chunks) == 0
    for _ in range(100):  # let the reader fill the queue
        if len(read) >= 5:
            break
        threading.Event().wait(0.01)
    # One handed over, `depth` queued, one read and waiting for room.
    assert len(read) == 5
    chunks.close()
    assert reader_threads() == []
    assert len(read) == 5


def test_the_readers_failure_reaches_the_consumer() -> None:
    read: list[int] = []
    got: list[int] = []
    with pytest.raises(OSError, match="chunk 7"):
        for k in prefetched(numbers(20, read, fail_at=7)):
            got.append(k)
    assert got == list(range(7))
    assert reader_threads() == []
