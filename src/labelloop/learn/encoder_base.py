"""The encoder interface: items in, fixed-length float32 vectors out.

Every encoder module (text.tfidf, text.minilm, images.features, images.embeddings) and the
embedding cache build on this module; `labelloop.learn.encoders` is the registry that picks one by
name and runs it in batches.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Generic, TypeAlias, TypeVar

import numpy as np
from numpy.typing import NDArray

Vectors: TypeAlias = NDArray[np.float32]
Progress: TypeAlias = Callable[[int, int], None]
T = TypeVar("T")


class Encoder(ABC, Generic[T]):
    """Turns items of type ``T`` into ``(n, dim)`` float32 vectors; deterministic for a given ``name``."""

    name: str
    dim: int

    @abstractmethod
    def content(self, item: T) -> bytes:
        """The bytes that identify *item*'s content (hashed into its cache key)."""

    @abstractmethod
    def encode_batch(self, items: Sequence[T]) -> Vectors:
        """Vectors of *items*, in order: a ``(len(items), dim)`` float32 array."""

    def key(self, item: T) -> bytes:
        """The cache key of *item*: sha256 of its content."""
        return hashlib.sha256(self.content(item)).digest()


class TextEncoder(Encoder[str]):
    """An encoder of texts: a text's content is its UTF-8 bytes; anything else is refused."""

    def content(self, item: str) -> bytes:
        if not isinstance(item, str):
            raise TypeError(f"{self.name} encodes str, got {type(item).__name__}")
        return item.encode("utf-8")

    def check_texts(self, items: Sequence[str]) -> list[str]:
        """*items* as a list, once each is known to be a str (before any work is done on them)."""
        for item in items:
            self.content(item)
        return list(items)
