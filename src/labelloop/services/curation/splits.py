"""Train / validation / test splits of a release: deterministic from a seed, optionally
stratified by a label, and never cutting a group (near-duplicates, one source) in two.

Items are first gathered into *units*: an item's group when it has one, else the item alone. Each
unit is drawn a random key from the seed; within each stratum (the label of the unit's first item
when stratified, one stratum otherwise) units are taken in key order and a unit goes to the split
in which the middle of its run of items falls. The shares of each split thus match the ratios to
within one unit per stratum, and a group lands whole in one split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from labelloop.errors import Invalid, Problem

SPLITS = ("train", "validation", "test")


def parse_ratios(text: str) -> tuple[int, int, int]:
    """`80/10/10` (or `80,10,10`) -> (80, 10, 10); Invalid naming the text otherwise."""
    parts = text.replace(",", "/").split("/")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 0 or sum(values) == 0:
        raise Invalid("a split is three non-negative integers with a positive sum",
                      [Problem(f"got {text!r}, e.g. 80/10/10", field="split")])
    return values[0], values[1], values[2]


def assign_splits(
    keys: Sequence[str],
    *,
    ratios: tuple[int, int, int],
    seed: int,
    strata: Sequence[str | None] | None = None,
    groups: Mapping[int, int] | None = None,
) -> np.ndarray:
    """The split (an index into SPLITS) of each item.

    `keys` are the items' stable names (external ids): the result depends on them, the seed and
    the ratios, never on the order the items come in. `groups` maps an item's position in `keys`
    to its group; items in one group always share a split.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    if min(ratios) < 0 or sum(ratios) == 0:
        raise Invalid("bad split ratios", [Problem(f"got {ratios}", field="split")])
    order = np.argsort(np.asarray(keys, dtype=object), kind="stable")  # a fixed order of the items
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    # A unit per group, and one per ungrouped item (negative ids cannot clash with group ids).
    unit_of = -(rank + 1)
    if groups:
        positions = np.fromiter(groups.keys(), dtype=np.int64, count=len(groups))
        unit_of[positions] = np.fromiter(groups.values(), dtype=np.int64, count=len(groups))
    # Units in the fixed order of their first item.
    units, first, inverse = np.unique(unit_of[order], return_index=True, return_inverse=True)
    by_first = np.argsort(first, kind="stable")
    relabel = np.empty(len(units), dtype=np.int64)
    relabel[by_first] = np.arange(len(units))
    unit_index = np.empty(n, dtype=np.int64)
    unit_index[order] = relabel[inverse]
    n_units = len(units)
    size = np.bincount(unit_index, minlength=n_units)
    lead = order[np.sort(first)]  # each unit's first item, in unit order
    if strata is None:
        stratum = np.zeros(n_units, dtype=np.int64)
    else:
        labels = np.asarray(["" if strata[i] is None else f"={strata[i]}" for i in lead], dtype=object)
        _, stratum = np.unique(labels, return_inverse=True)
    draw = np.random.default_rng(seed).random(n_units)
    walk = np.lexsort((draw, stratum))
    cum = np.cumsum(size[walk])
    starts = np.searchsorted(stratum[walk], np.arange(stratum.max() + 1))
    before = np.concatenate(([0], cum))[starts][stratum[walk]]  # items of earlier strata
    totals = np.bincount(stratum, weights=size).astype(np.int64)[stratum[walk]]
    middle = (cum - before - size[walk] / 2) / totals
    bounds = np.cumsum(ratios)[:-1] / sum(ratios)
    unit_split = np.empty(n_units, dtype=np.int8)
    unit_split[walk] = np.searchsorted(bounds, middle, side="right")
    return unit_split[unit_index]
