"""Duplicate finding as plain algorithms (no database, no settings): near-duplicate texts by
MinHash LSH (`text_near`), near-duplicate images by perceptual hash (`image_near`), semantic
neighbours by cosine over given embeddings (`semantic`), and pairs joined into groups (`groups`).

Each finder takes a sequence of inputs and returns `Pairs`: verified pairs of indices with their
similarity, and the inputs it skipped with the reason (no text, an image that does not decode),
so that bad input never stops the work on the rest.
"""

from labelloop.curation.groups import Pairs, equal_key_pairs, union_groups
from labelloop.curation.image_near import near_duplicate_images, perceptual_hashes
from labelloop.curation.semantic import semantic_neighbours
from labelloop.curation.text_near import near_duplicate_texts

__all__ = [
    "Pairs", "equal_key_pairs", "near_duplicate_images", "near_duplicate_texts", "perceptual_hashes",
    "semantic_neighbours", "union_groups",
]
