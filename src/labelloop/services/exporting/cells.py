"""CSV cells a spreadsheet may open safely (OWASP's rule against formula injection)."""

from __future__ import annotations

import re

FORMULA_START = frozenset("=+-@\t\r")  # OWASP: what a spreadsheet may take for a formula
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralised(cell: str) -> str:
    """A CSV text cell as a spreadsheet may safely open it: one that starts with = + - @, a tab
    or a carriage return gets a leading single quote, so it is shown as text, not run.

    Text that is exactly one plain number ("-1", "+2.5", "-1e-5") is left alone: a spreadsheet
    reads it as that number, which can run nothing, and labels such as -1 / 0 / 1 must come
    back unchanged into pandas and the like. Numbers the exporter itself writes (priority,
    counts, confidence, a rating) are numbers, not text, and never change."""
    if cell[:1] in FORMULA_START and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell
