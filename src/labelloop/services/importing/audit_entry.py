"""What the audit log says about an import: who, which project, the file (its name and SHA-256),
what it became, and the outcome (docs/audit.md, `import`).

The entry is written in the import's own transaction: at its commit point when it succeeds, with
the deletion of what it staged when it is refused, so a refused import is logged too, with the
number of problems found. The file's content never goes into the log, only its digest, which
lets an auditor tell which file it was without the log holding its data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from labelloop.services import audit
from labelloop.services.policy import Actor

CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file; of a folder (the CLI imports those), the SHA-256 of its listing as
    `sha256sum` writes it, one `<sha256>  <relative path>` line per file, sorted by path."""
    if path.is_dir():
        lines = [f"{file_sha256(f)}  {f.relative_to(path).as_posix()}\n"
                 for f in sorted(p for p in path.rglob("*") if p.is_file())]
        return hashlib.sha256("".join(lines).encode()).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ImportEntry:
    """The import an entry is about, known before it runs."""

    actor: Actor
    project_id: int
    job_id: int
    file: str  # as the user named it: the upload's name, or the CLI's file name
    sha256: str
    format: str
    as_: str | None = None  # datasets and segments: `gold` or `prelabels`

    def _record(self, conn: Connection, details: dict[str, Any]) -> None:
        base: dict[str, Any] = {"file": self.file, "sha256": self.sha256, "format": self.format}
        if self.as_ is not None:
            base["as"] = self.as_
        audit.record(conn, self.actor, "import", project_id=self.project_id, object_type="job",
                     object_id=self.job_id, details=base | details)

    def imported(self, conn: Connection, result: dict[str, Any]) -> None:
        counts = {k: int(v) for k, v in result.items() if k in ("created", "unchanged", "records", "updated")}
        self._record(conn, {"outcome": "imported", **counts})

    def refused(self, conn: Connection, problems: int) -> None:
        # The count only: problems quote ids and values of the file, which may be personal data
        # that an erasure could not take back out of a hash-chained log.
        self._record(conn, {"outcome": "refused", "problems": problems})
