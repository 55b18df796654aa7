"""Runs of digit groups in text ("4111 1111-1111 1111", "123.456.789"), the raw material of the
number detectors: each detector decides which runs, or which groups inside a run, it accepts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

SEPARATORS = " \u00a0\u202f.-"
# Digit groups joined by one separator each. Possessive quantifiers: a run is taken whole or not at
# all, never a shorter piece of a longer number. A run touching a letter or a decimal point on either
# side ("A123", "12.5") is part of something else and left alone. A comma is no decimal mark here: in
# CSV rows it separates cells ("4111111111111111,66509497500422").
_RUN = re.compile(r"(?<!\w)(?<!\d\.)\d++(?:[ \u00a0\u202f.\-]\d++)*+(?!\w)(?!\.\d)")


@dataclass(frozen=True, slots=True)
class Run:
    """One run: ``groups`` are (start, end) offsets of its digit groups; ``seps`` the separators."""

    groups: tuple[tuple[int, int], ...]
    seps: str

    @property
    def start(self) -> int:
        return self.groups[0][0]

    @property
    def end(self) -> int:
        return self.groups[-1][1]

    def digits(self, text: str, first: int = 0, last: int | None = None) -> str:
        chosen = self.groups[first:last]
        return "".join(text[a:b] for a, b in chosen)

    def sizes(self) -> tuple[int, ...]:
        return tuple(b - a for a, b in self.groups)


def digit_runs(text: str) -> Iterator[Run]:
    """Every run of digit groups in *text*, left to right."""
    for m in _RUN.finditer(text):
        groups: list[tuple[int, int]] = []
        seps: list[str] = []
        start = m.start()
        for i in range(m.start(), m.end()):
            if text[i] in SEPARATORS:
                groups.append((start, i))
                seps.append(text[i])
                start = i + 1
        groups.append((start, m.end()))
        yield Run(tuple(groups), "".join(seps))


def one_separator(run: Run, allowed: str) -> bool:
    """True when the run has no separator, or the same one, from *allowed*, everywhere."""
    return not run.seps or (len(set(run.seps)) == 1 and run.seps[0] in allowed)
