"""One map of a task over batches, and the runner that calls it in this process.

`runner.map(task, batches, **shared)` calls `task(*batch, **shared)` for every batch and returns
the results in batch order; `shared` holds what every batch needs (an encoder, a trained model),
sent to a cluster once rather than with each batch. `imap` yields `(batch index, result)` as
batches finish, so a caller can place each result and let it go. Both runners call the same task
on the same batches, so a round gives the same results with Ray as without.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

R = TypeVar("R")

BATCH_ITEMS = 10_000  # items per task: large enough that a task's overhead is small against its work


class BatchMap(ABC):
    """Runs a task over batches (see the module docstring)."""

    name: str
    local_files: bool  # whether tasks see this process's files (the embedding cache's folder)

    @abstractmethod
    def imap(self, task: Callable[..., R], batches: Sequence[tuple[Any, ...]],
             **shared: Any) -> Iterator[tuple[int, R]]:
        """`(k, task(*batches[k], **shared))` for every batch, in the order they finish."""

    def map(self, task: Callable[..., R], batches: Sequence[tuple[Any, ...]], **shared: Any) -> list[R]:
        """`task(*batch, **shared)` for every batch, in batch order."""
        out: dict[int, R] = {}
        for k, result in self.imap(task, batches, **shared):
            out[k] = result
        return [out[k] for k in range(len(batches))]


class InProcess(BatchMap):
    """The batches one after another in this process (the default)."""

    name = "in-process"
    local_files = True

    def imap(self, task: Callable[..., R], batches: Sequence[tuple[Any, ...]],
             **shared: Any) -> Iterator[tuple[int, R]]:
        for k, batch in enumerate(batches):
            yield k, task(*batch, **shared)


def spans(n: int, size: int = BATCH_ITEMS) -> list[tuple[int, int]]:
    """`(start, stop)` of the consecutive batches of `size` rows that cover `n` rows."""
    if size < 1:
        raise ValueError(f"a batch holds at least one row, got size {size}")
    return [(start, min(start + size, n)) for start in range(0, n, size)]

