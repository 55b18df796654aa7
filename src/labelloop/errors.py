"""Domain errors. Services raise these; the API turns them into HTTP statuses in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    """Base class: a message meant for the user, plus optional structured detail."""

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class Forbidden(DomainError):
    pass


class Unauthenticated(DomainError):
    pass


class TooManyAttempts(DomainError):
    """Too many failed sign-ins for an account or from an address; try again after `retry_after` s."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is (file, line or record, field) and what."""

    message: str
    line: int | None = None
    field: str | None = None
    record: int | None = None  # 1-based position in a file without lines (a JSON array)
    file: str | None = None  # the member of a folder or archive
    column: int | None = None  # 1-based, on `line` (a schema's YAML syntax error)

    def as_dict(self) -> dict[str, Any]:
        where = {
            "file": self.file, "line": self.line, "column": self.column, "record": self.record,
            "field": self.field,
        }
        return {k: v for k, v in where.items() if v is not None} | {"message": self.message}

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class Invalid(DomainError):
    """The input is wrong; `problems` name each place. Nothing was changed."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message, detail=[p.as_dict() for p in self.problems])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        head = "; ".join(str(p) for p in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        return f"{self.message}: {head}{more}"
