r"""Near-duplicate texts: MinHash LSH over normalised word shingles, verified by exact Jaccard.

A text is normalised (lower case, words of letters and digits only, so punctuation and spacing do
not count) and cut into *shingles* of `shingle` consecutive words; two texts are near-duplicates
when the Jaccard similarity :math:`|A \cap B| / |A \cup B|` of their shingle sets is at least
`threshold`. Only the first `max_chars` characters are shingled, so a 10 MB text costs what a
long paragraph does.

MinHash (Broder, "On the resemblance and containment of documents", 1997) gives each text a
signature whose rows agree with another text's with probability equal to their Jaccard
similarity. The signature is datasketch's (`datasketch.MinHash`, scheme ``affine32``: its
permutations, each shingle's 32-bit hash premixed by the MurmurHash3 finaliser), computed for a
whole batch of texts at once with numpy rather than text by text; the tests check it against
`datasketch.MinHash` value for value. Locality-sensitive hashing (Indyk and Motwani, 1998;
Leskovec, Rajaraman and Ullman, *Mining of Massive Datasets*, ch. 3) cuts signatures into `b` bands
of `r` rows, with `b` and `r` chosen by `datasketch.MinHashLSH` for the threshold; texts sharing
one band are candidates. Every candidate is then verified by the exact Jaccard of its shingle
sets (64-bit shingle hashes), so a reported pair is never a guess of the sketch: LSH can only miss
pairs (recall), not invent them (precision).

A bucket of more than `max_bucket` texts (a boilerplate sentence shared by thousands) would give
a quadratic number of candidates: its texts are then chained (each with the next in the bucket)
instead of all paired, which keeps the groups that the pairs form and bounds the work.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from labelloop.curation.groups import Pairs

MAX_CHARS = 100_000  # characters shingled per text: a 10 MB text is cut, never loaded into the sketch whole
_WORD = re.compile(r"\w+")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # the golden ratio's 64 bits: an odd multiplier for polynomial hashing
_BATCH = 8192  # texts shingled at once
_SIG_BATCH = 256  # texts whose permuted hashes are computed at once (a few MB: they stay in cache)


def near_duplicate_texts(
    texts: Sequence[object], *, threshold: float = 0.6, shingle: int = 1, num_perm: int = 128,
    seed: int = 1, max_chars: int = MAX_CHARS, max_bucket: int = 100,
) -> Pairs:
    """Pairs of `texts` whose shingle sets have Jaccard similarity >= `threshold` (the score).

    An input that is not a string, or holds no word, is skipped with the reason."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    if shingle < 1 or num_perm < 2 or max_chars < 1 or max_bucket < 2:
        raise ValueError("shingle >= 1, num_perm >= 2, max_chars >= 1 and max_bucket >= 2 are needed")
    sets, rows, skipped = shingle_sets(texts, shingle=shingle, max_chars=max_chars)
    if len(rows) < 2:
        return Pairs.empty(skipped)
    bands, r = lsh_bands(threshold, num_perm)
    sig = signatures(sets, num_perm=num_perm, seed=seed)
    cand = _candidates(sig, bands, r, max_bucket)
    i, j, score = _verified(sets, cand, threshold)
    return Pairs(rows[i], rows[j], score, skipped)


class ShingleSets:
    """Texts' sorted, distinct 64-bit shingle hashes, one after another (`offsets[k]` to `offsets[k+1]`)."""

    def __init__(self, values: NDArray[np.uint64], offsets: NDArray[np.int64]) -> None:
        self.values, self.offsets = values, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def of(self, k: int) -> NDArray[np.uint64]:
        return self.values[self.offsets[k]:self.offsets[k + 1]]


def shingle_sets(texts: Sequence[object], *, shingle: int = 2, max_chars: int = MAX_CHARS,
                 ) -> tuple[ShingleSets, NDArray[np.intp], dict[int, str]]:
    """(the shingle sets of the usable texts, their indices in `texts`, the skipped ones and why).

    Texts are read `_BATCH` at a time, so the Python objects alive at once stay few."""
    words_of = _WordHashes()
    parts: list[ShingleSets] = []
    rows: list[int] = []
    skipped: dict[int, str] = {}
    for lo in range(0, len(texts), _BATCH):
        flat: list[int] = []
        lengths: list[int] = []
        for k in range(lo, min(lo + _BATCH, len(texts))):
            words = _words(texts[k], max_chars)
            if isinstance(words, str):
                skipped[k] = words
                continue
            flat.extend(map(words_of.__getitem__, words))
            lengths.append(len(words))
            rows.append(k)
        parts.append(_shingled(np.array(flat, dtype=np.uint64), np.array(lengths, dtype=np.int64), shingle))
    return _joined(parts), np.array(rows, dtype=np.intp), skipped


class _WordHashes(dict[str, int]):
    """A word's 64-bit hash (BLAKE2b), computed once per distinct word: the same in every process."""

    def __missing__(self, word: str) -> int:
        h = self[word] = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        return h


def _words(text: object, max_chars: int) -> list[str] | str:
    """The normalised words of the text's first `max_chars` characters, or why it has none."""
    if not isinstance(text, str):
        return "no text" if text is None else f"not a text ({type(text).__name__})"
    head = text[:max_chars]
    if len(text) > max_chars and not text[max_chars].isspace():
        head = head.rpartition(" ")[0] or head  # no half word at the cut
    words = _WORD.findall(head.lower())
    if words:
        return words
    return "no text" if not text.strip() else "no words (only punctuation or symbols)"


def _joined(parts: list[ShingleSets]) -> ShingleSets:
    if not parts:
        return ShingleSets(np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.int64))
    offsets = [parts[0].offsets]
    at = parts[0].offsets[-1]
    for p in parts[1:]:
        offsets.append(p.offsets[1:] + at)
        at += p.offsets[-1]
    return ShingleSets(np.concatenate([p.values for p in parts]), np.concatenate(offsets))


def _shingled(words: NDArray[np.uint64], lengths: NDArray[np.int64], k: int) -> ShingleSets:
    """Hash each run of `k` words of each text (a text shorter than `k` words is one shingle)."""
    n = len(lengths)
    if n == 0:
        return ShingleSets(np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.int64))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    counts = np.maximum(lengths - k + 1, 1)
    owner = np.repeat(np.arange(n), counts)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = starts[owner] + (np.arange(int(counts.sum())) - first[owner])
    end = starts[owner] + lengths[owner]
    h = np.zeros(len(pos), dtype=np.uint64)
    for t in range(k):
        inside = pos + t < end
        h = np.where(inside, h * _MIX + words[np.minimum(pos + t, len(words) - 1)], h)
    h = _fmix64(h)
    order = np.lexsort((h, owner))  # sort each text's shingles, then drop repeats within a text
    h, owner = h[order], owner[order]
    keep = np.ones(len(h), dtype=bool)
    keep[1:] = (h[1:] != h[:-1]) | (owner[1:] != owner[:-1])
    h, owner = h[keep], owner[keep]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.add.at(offsets, owner + 1, 1)
    return ShingleSets(h, np.cumsum(offsets))


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) that datasketch's MinHashLSH picks for the threshold (equal weights
    of false positives and false negatives). Above 0.9 the bands of 0.9 are used: datasketch wants
    two bands at least, and more candidates only cost verification, never precision."""
    from datasketch import MinHashLSH  # type: ignore[import-untyped,unused-ignore]

    lsh = MinHashLSH(threshold=min(threshold, 0.9), num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


def permutations(num_perm: int, seed: int) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """datasketch's affine permutations `h -> a*h + b mod 2^32` for `num_perm` and `seed`."""
    from datasketch import MinHash  # type: ignore[import-untyped,unused-ignore]

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


def signatures(sets: ShingleSets, *, num_perm: int = 128, seed: int = 1) -> NDArray[np.uint32]:
    """`(num_perm, len(sets))` MinHash signatures, one column per text, equal to datasketch's MinHash
    (scheme affine32) updated with each shingle's low 32 bits.

    Permutations are rows and texts columns, and texts go `_SIG_BATCH` at a time: the block of
    permuted hashes then stays in the CPU cache, which makes this several times faster."""
    a, b = permutations(num_perm, seed)
    out = np.empty((num_perm, len(sets)), dtype=np.uint32)
    for lo in range(0, len(sets), _SIG_BATCH):
        hi = min(lo + _SIG_BATCH, len(sets))
        v0, v1 = int(sets.offsets[lo]), int(sets.offsets[hi])
        hv = _fmix32((sets.values[v0:v1] & np.uint64(0xFFFFFFFF)).astype(np.uint32))
        with np.errstate(over="ignore"):
            phv = np.multiply.outer(a, hv)
            phv += b[:, None]
        out[:, lo:hi] = np.minimum.reduceat(phv, sets.offsets[lo:hi] - v0, axis=1)
    return out


def _candidates(sig: NDArray[np.uint32], bands: int, r: int, max_bucket: int) -> NDArray[np.int64]:
    """Candidate pairs of columns of `sig` `(lo, hi)` as rows of an `(m, 2)` array, each once."""
    found: list[NDArray[np.int64]] = []
    for band in range(bands):
        key = np.zeros(sig.shape[1], dtype=np.uint64)
        for row in sig[band * r:(band + 1) * r]:
            key = key * _MIX + row.astype(np.uint64)
        found.extend(_bucket_pairs(key, max_bucket))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    pairs.sort(axis=1)
    n = np.int64(sig.shape[1])
    code = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([code // n, code % n], axis=1)


def _bucket_pairs(key: NDArray[np.uint64], max_bucket: int) -> list[NDArray[np.int64]]:
    """Pairs of rows with the same key: every pair in a small bucket, a chain in a large one."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    bounds = np.flatnonzero(np.diff(sorted_key)) + 1
    starts = np.concatenate(([0], bounds))
    sizes = np.diff(np.concatenate((starts, [len(key)])))
    out: list[NDArray[np.int64]] = []
    for size in np.unique(sizes[sizes >= 2]).tolist():
        at = starts[sizes == size]
        if size <= max_bucket:
            members = order[at[:, None] + np.arange(size)[None, :]]
            a, b = np.triu_indices(size, k=1)
            out.append(np.stack([members[:, a].ravel(), members[:, b].ravel()], axis=1).astype(np.int64))
        else:
            for s in at.tolist():
                members = order[s:s + size]
                out.append(np.stack([members[:-1], members[1:]], axis=1).astype(np.int64))
    return out


def _verified(sets: ShingleSets, cand: NDArray[np.int64], threshold: float,
              ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float32]]:
    """The candidates whose exact Jaccard similarity reaches the threshold, with it."""
    keep_i: list[int] = []
    keep_j: list[int] = []
    score: list[float] = []
    for lo, hi in cand.tolist():
        a, b = sets.of(lo), sets.of(hi)
        common = len(np.intersect1d(a, b, assume_unique=True))
        jaccard = common / (len(a) + len(b) - common)
        if jaccard >= threshold:
            keep_i.append(lo)
            keep_j.append(hi)
            score.append(jaccard)
    return np.array(keep_i, dtype=np.intp), np.array(keep_j, dtype=np.intp), np.array(score, dtype=np.float32)


def _fmix32(h: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """MurmurHash3's 32-bit finaliser (datasketch premixes hashes with it)."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint32(16))
        h = h * np.uint32(0x85EBCA6B)
        h = h ^ (h >> np.uint32(13))
        h = h * np.uint32(0xC2B2AE35)
        return h ^ (h >> np.uint32(16))


def _fmix64(h: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """MurmurHash3's 64-bit finaliser: spreads the polynomial shingle hash over all bits."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xFF51AFD7ED558CCD)
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xC4CEB9FE1A85EC53)
        return h ^ (h >> np.uint64(33))
