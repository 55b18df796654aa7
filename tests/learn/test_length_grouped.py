"""Fine-tuning's batches grouped by length (learn/text/finetune.py `length_grouped`): every text
once per epoch, no batch over the size, far less padding than random batches, and the order
still random."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.learn.text.finetune import length_grouped


def padded(lengths: np.ndarray, batches: list[np.ndarray]) -> int:
    """Token slots a step computes: each batch pads to its longest text."""
    return sum(len(b) * int(lengths[b].max()) for b in batches)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 128), min_size=1, max_size=400), st.integers(1, 33), st.integers(0, 2**32 - 1))
def test_every_text_once_and_no_batch_too_large(lengths: list[int], batch_size: int, seed: int) -> None:
    arr = np.array(lengths)
    batches = length_grouped(arr, batch_size, np.random.default_rng(seed), window=3)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    assert all(1 <= len(b) <= batch_size for b in batches)


def test_far_less_padding_than_random_batches_and_a_different_order_each_epoch() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 128, size=5000)
    random_order = rng.permutation(len(lengths))
    random_batches = [random_order[s:s + 16] for s in range(0, len(lengths), 16)]
    first = length_grouped(lengths, 16, rng)
    assert padded(lengths, first) < 0.6 * padded(lengths, random_batches)
    second = length_grouped(lengths, 16, rng)
    assert [b.tolist() for b in first] != [b.tolist() for b in second]
    # Batches do not come shortest first: the order of lengths across an epoch stays mixed.
    longest = [int(lengths[b].max()) for b in first]
    assert abs(np.corrcoef(np.arange(len(longest)), longest)[0, 1]) < 0.2
