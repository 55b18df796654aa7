"""Near-duplicate texts: planted edits found, unrelated texts not, the signature equal to
datasketch's, bad input skipped with its reason."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash  # type: ignore[import-untyped]

from labelloop.curation import near_duplicate_texts, union_groups
from labelloop.curation.text_near import shingle_sets, signatures

BASE = [
    "A film that will probably please people already fascinated by Behan but leave everyone else yawning",
    "The acting is superb and the photography gorgeous, yet the story never quite comes together at all",
    "An unexpectedly moving portrait of a family falling apart during one long hot summer in the city",
    "Too long, too loud and too pleased with itself to be the thriller it so badly wants to be",
    "Every frame of this animated fable looks hand painted, and the songs are better than they need be",
]


def jaccard(a: str, b: str) -> float:
    x, y = set(a.lower().replace(",", "").split()), set(b.lower().replace(",", "").split())
    return len(x & y) / len(x | y)


def test_planted_edits_are_found_and_unrelated_texts_are_not() -> None:
    typo = BASE[0].replace("fascinated", "fascinatde")
    reordered = BASE[1].replace("superb and the photography gorgeous", "gorgeous and the photography superb")
    truncated = " ".join(BASE[2].split()[:-2])
    texts = [*BASE, typo, reordered, truncated]
    found = near_duplicate_texts(texts, threshold=0.6)
    assert found.as_set() == {(0, 5), (1, 6), (2, 7)}
    by_pair = {(int(a), int(b)): float(s) for a, b, s in zip(found.i, found.j, found.score, strict=True)}
    # 16 distinct words, one changed: 15 shared of 17.
    assert by_pair[(0, 5)] == pytest.approx(15 / 17)
    assert by_pair[(1, 6)] == pytest.approx(1.0)  # the same words in another order
    assert by_pair[(2, 7)] == pytest.approx(jaccard(BASE[2], truncated))
    assert found.skipped == {}


def test_bigram_shingles_see_word_order() -> None:
    a = "one two three four five six seven eight"
    b = "eight seven six five four three two one"
    assert near_duplicate_texts([a, b], threshold=0.9, shingle=1).as_set() == {(0, 1)}
    assert near_duplicate_texts([a, b], threshold=0.1, shingle=2).as_set() == set()


def test_normalisation_ignores_case_punctuation_and_spacing() -> None:
    found = near_duplicate_texts(["Hello, World!  It's  me.", "hello world it s me"], threshold=1.0)
    assert found.as_set() == {(0, 1)}
    assert found.score.tolist() == [1.0]


def test_bad_input_is_skipped_with_its_reason() -> None:
    huge = ("lorem ipsum dolor sit amet " * 400_000)  # 10.8 MB
    texts: list[object] = [None, "", "   ", "!!! ???", 42, huge, "lorem ipsum dolor sit amet", BASE[0]]
    found = near_duplicate_texts(texts, threshold=0.9, max_chars=10_000)
    assert found.skipped == {0: "no text", 1: "no text", 2: "no text",
                             3: "no words (only punctuation or symbols)", 4: "not a text (int)"}
    assert found.as_set() == {(5, 6)}  # the capped prefix holds the same five words


def test_signatures_equal_datasketch_minhash() -> None:
    texts = [BASE[0], BASE[3], "short"]
    sets, rows, _ = shingle_sets(texts, shingle=2)
    sig = signatures(sets, num_perm=32, seed=7)
    assert rows.tolist() == [0, 1, 2]
    for k in range(len(texts)):
        m = MinHash(num_perm=32, seed=7, scheme="affine32", hashfunc=lambda v: v)
        m.update_batch([int(v) & 0xFFFFFFFF for v in sets.of(k)])
        assert sig[:, k].tolist() == m.hashvalues.tolist()


def test_a_large_bucket_is_chained_not_paired_quadratically() -> None:
    same = ["the very same sentence repeated here"] * 300
    found = near_duplicate_texts(same, threshold=0.9, max_bucket=10)
    assert len(found) < 300 * 299 // 2
    assert set(union_groups(300, found.i, found.j).tolist()) == {0}


def test_recall_on_random_planted_pairs() -> None:
    rng = random.Random(5)
    vocab = [f"w{k}" for k in range(3000)]
    base = [" ".join(rng.choices(vocab, k=rng.randint(15, 30))) for _ in range(400)]
    copies = []
    for text in base[:100]:
        words = text.split()
        words[rng.randrange(len(words))] = "typo"
        copies.append(" ".join(words))
    found = near_duplicate_texts(base + copies, threshold=0.6)
    planted = {(k, 400 + k) for k in range(100)}
    assert planted <= found.as_set()
    assert found.as_set() - planted == set()


def test_groups_join_chains() -> None:
    groups = union_groups(6, np.array([0, 3, 1]), np.array([4, 4, 5]))
    assert groups.tolist() == [0, 1, 2, 0, 0, 1]
