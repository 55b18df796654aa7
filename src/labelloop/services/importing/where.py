"""Where in an imported file something is (line, record, file), and text from the file as a
problem may quote it: shared by every reader (readers.py) and by other tools' formats (movein/)."""

from __future__ import annotations

from dataclasses import dataclass

from labelloop.errors import Problem

MOVE_IN = ("label-studio", "doccano")  # other tools' exports, whose labels come along (movein/)


@dataclass(frozen=True)
class Where:
    line: int | None = None
    record: int | None = None
    file: str | None = None

    def problem(self, message: str, field: str | None = None) -> Problem:
        return Problem(message, line=self.line, field=field, record=self.record, file=self.file)


def shown(text: str) -> str:
    """Text from the file as a problem may quote it: a NUL, which PostgreSQL cannot store in
    the job's error, is written as its JSON escape."""
    return text.replace("\x00", "\\u0000")
