"""Redacted text for people who need not see personal data, with a map back to the original.

``placeholders`` swaps each finding for ``[PERSON_1]``, ``[EMAIL_2]``...: numbered per label in order
of first appearance, the same surface string (case and inner spacing aside) always getting the same
number within one text, so "Jean Dupont ... Jean Dupont" reads "[PERSON_1] ... [PERSON_1]". Texts
redacted with one :class:`Numbering` share their numbers (an item's field and the messages of its
conversation alike), so a reader can follow who is who across them.

An answer given on the redacted text (a span, a cursor) goes back to the original through
:class:`OffsetMap`: outside a finding the two texts differ by a constant shift per gap; a position
strictly inside a placeholder has no original twin and goes to the finding's start or end, as the
caller asks (a span touching a placeholder grows to cover the whole finding).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from labelloop.privacy.findings import PLACEHOLDER_LABEL, Finding

Side = Literal["start", "end"]


@dataclass(frozen=True)
class OffsetMap:
    """Matching (start, end) pairs: ``original[i]`` was replaced by ``redacted[i]``, sorted."""

    original: tuple[tuple[int, int], ...]
    redacted: tuple[tuple[int, int], ...]

    def to_original(self, pos: int, side: Side = "start") -> int:
        """A position in the redacted text as a position in the original."""
        return _map(pos, self.redacted, self.original, side)

    def to_redacted(self, pos: int, side: Side = "start") -> int:
        """A position in the original text as a position in the redacted one."""
        return _map(pos, self.original, self.redacted, side)

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        return self.to_original(start, "start"), self.to_original(end, "end")

    def span_to_redacted(self, start: int, end: int) -> tuple[int, int]:
        return self.to_redacted(start, "start"), self.to_redacted(end, "end")


def _map(pos: int, source: Sequence[tuple[int, int]], target: Sequence[tuple[int, int]], side: Side) -> int:
    if pos < 0:
        raise ValueError(f"position {pos} is negative")
    # The last replaced piece starting at or before pos.
    i = bisect_right([s for s, _ in source], pos) - 1
    if i < 0:
        return pos
    (s, e), (ts, te) = source[i], target[i]
    if pos >= e:
        return te + (pos - e)
    if pos == s:
        return ts
    return ts if side == "start" else te


@dataclass(frozen=True)
class Redaction:
    """The redacted text, the map between it and the original, and which placeholder stands for what
    (``legend["[PERSON_1]"] == "Jean Dupont"``; for people allowed to reveal, never for annotators)."""

    text: str
    offsets: OffsetMap
    legend: dict[str, str]


def _key(surface: str) -> str:
    return " ".join(surface.split()).casefold()


class Numbering:
    """Placeholder numbers per label in order of first appearance, the same surface string (case and
    inner spacing aside) always getting the same number; shared by every text redacted with it."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str], int] = {}
        self._counts: dict[str, int] = {}

    def token(self, label: str, surface: str) -> str:
        """The placeholder for *surface* found as *label*: ``[PERSON_1]``."""
        key = (label, _key(surface))
        if key not in self._numbers:
            self._counts[label] = self._counts.get(label, 0) + 1
            self._numbers[key] = self._counts[label]
        return f"[{label}_{self._numbers[key]}]"


def placeholders(text: str, findings: Sequence[Finding], *, numbering: Numbering | None = None) -> Redaction:
    """*text* with each finding replaced by its numbered placeholder, numbered by *numbering* (shared
    with other texts) or afresh.

    *findings* must lie inside the text and not overlap (as ``detect`` returns them); ValueError
    otherwise.
    """
    ordered = sorted(findings, key=lambda f: (f.start, f.end))
    if numbering is None:
        numbering = Numbering()
    pieces: list[str] = []
    original: list[tuple[int, int]] = []
    redacted: list[tuple[int, int]] = []
    legend: dict[str, str] = {}
    cursor = length = 0
    for f in ordered:
        if not 0 <= f.start < f.end <= len(text):
            raise ValueError(f"finding {f.kind} at {f.start}-{f.end} is outside the text "
                             f"({len(text)} characters)")
        if f.start < cursor:
            raise ValueError(f"finding {f.kind} at {f.start}-{f.end} overlaps the one before it")
        token = numbering.token(PLACEHOLDER_LABEL[f.kind], text[f.start:f.end])
        legend.setdefault(token, text[f.start:f.end])
        pieces.append(text[cursor:f.start])
        length += f.start - cursor
        pieces.append(token)
        original.append((f.start, f.end))
        redacted.append((length, length + len(token)))
        length += len(token)
        cursor = f.end
    pieces.append(text[cursor:])
    return Redaction("".join(pieces), OffsetMap(tuple(original), tuple(redacted)), legend)


def masked(text: str, findings: Sequence[Finding], *, char: str = "•") -> str:
    """*text* with every character of each finding but whitespace replaced by *char*: the length, and
    so every offset, is unchanged."""
    if len(char) != 1:
        raise ValueError("char must be one character")
    out = list(text)
    for f in findings:
        if not 0 <= f.start < f.end <= len(text):
            raise ValueError(f"finding {f.kind} at {f.start}-{f.end} is outside the text "
                             f"({len(text)} characters)")
        for i in range(f.start, f.end):
            if not text[i].isspace():
                out[i] = char
    return "".join(out)
