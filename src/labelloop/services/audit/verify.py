"""Checking the audit chain: recompute every hash and say where, and how, it breaks.

Each entry is checked three ways: its hash against its own fields (a changed entry fails), its
`prev_hash` against the entry before it (an entry removed, inserted, or rewritten with a new hash
breaks the link), and its `seq` against the one expected next (a gap is a deletion). An entry whose
hash fails is tried at other positions (the one after the entry its `prev_hash` names, or the
displacement seen just before), so a moved entry is reported as moved, with where it was written,
rather than as changed. Finally the last entry is compared with `audit_head` and with an anchor
kept elsewhere: a chain that ends before either was truncated, and one whose entry at the
anchor's position has another hash was rewritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, select

from labelloop.services.audit.chain import GENESIS, entry_hash, format_time, head
from labelloop.store.models import audit_log

BATCH = 5000
MAX_PROBLEMS = 50
MAX_LOOKUPS = 200
SEARCH = 16  # positions tried either side when a moved entry's predecessor is gone


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # changed | missing | inserted | reordered | unlinked | truncated | head | anchor
    message: str


@dataclass
class Report:
    entries: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    head_seq: int = 0
    head_hash: str = GENESIS
    anchor: dict[str, Any] | None = None
    problems: list[Problem] = field(default_factory=list)
    truncated_list: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_break(self) -> int | None:
        return min((p.seq for p in self.problems), default=None)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        out["first_break"] = self.first_break
        return out

    def add(self, seq: int, kind: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, kind, message))
        else:
            self.truncated_list = True


def _entries(conn: Connection) -> Iterator[Any]:
    after = 0
    cols = audit_log.c
    while True:
        rows = conn.execute(
            select(audit_log).where(cols.seq > after).order_by(cols.seq).limit(BATCH)
        ).all()
        yield from rows
        if len(rows) < BATCH:
            return
        after = rows[-1].seq


def _fields(row: Any, seq: int | None = None) -> dict[str, Any]:
    return {
        "seq": row.seq if seq is None else seq, "at": row.at, "actor_id": row.actor_id,
        "actor_name": row.actor_name, "action": row.action, "project_id": row.project_id,
        "object_type": row.object_type, "object_id": row.object_id, "details": row.details,
        "prev_hash": row.prev_hash,
    }


def _hash_at(row: Any, details: bytes, seq: int) -> bool:
    return bool(entry_hash(_fields(row, seq), details) == row.hash)


class _Lookups:
    """Positions of entries by hash, asked of the database only when an entry fails."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.left = MAX_LOOKUPS

    def position(self, digest: str) -> int | None:
        if digest == GENESIS or self.left <= 0:
            return 0 if digest == GENESIS else None
        self.left -= 1
        found = self.conn.execute(select(audit_log.c.seq).where(audit_log.c.hash == digest).limit(1)).first()
        return None if found is None else int(found.seq)


def verify(conn: Connection, anchor: dict[str, Any] | None = None) -> Report:
    """Recompute the chain (in the caller's read transaction) and report every break found."""
    report = Report(anchor=anchor)
    report.head_seq, report.head_hash = head(conn)
    lookups = _Lookups(conn)
    expected = 1
    prev: Any = None  # the previous row
    prev_origin = 0  # the position the previous row was written at
    prev_disturbed = False  # the previous row was reported (moved, after a gap), so skip its link
    shift = 0  # origin - position of the last moved row, so a renumbered run is reported once
    anchor_seen = False
    for row in _entries(conn):
        report.entries += 1
        seq = int(row.seq)
        gap = seq > expected
        if gap:
            n = seq - expected
            which = f"entry {expected} is" if n == 1 else f"entries {expected} to {seq - 1} are"
            report.add(expected, "missing",
                       f"{which} missing: the sequence jumps from {expected - 1} to {seq}")
        details = orjson.dumps(row.details, option=orjson.OPT_SORT_KEYS)
        linked = row.prev_hash == (prev.hash if prev is not None else GENESIS)
        origin: int | None = seq if _hash_at(row, details, seq) else None
        if origin is None:
            candidates = [seq + shift, prev_origin + 1 if linked else None]
            pos = None if linked else lookups.position(row.prev_hash)
            if pos is not None:
                candidates.append(pos + 1)
            if pos is None and not linked:
                candidates += [seq + k for k in range(-SEARCH, SEARCH + 1) if k and seq + k > 0]
            origin = next(
                (c for c in candidates if c is not None and c != seq and _hash_at(row, details, c)), None
            )
            if origin is None:
                report.add(seq, "changed", f"entry {seq} was changed: its hash does not match its fields")
                shift = 0
                prev_disturbed = False
            else:
                moved = origin - seq
                if moved != shift:
                    if moved < 0 and prev is not None and prev.prev_hash == row.prev_hash:
                        report.add(int(prev.seq), "inserted",
                                   f"entry {prev.seq} was inserted: entry {seq} was written as entry "
                                   f"{origin} and follows the same entry")
                    elif moved > 0 and not linked and pos is None:
                        report.add(seq, "missing", f"entries before {seq} were deleted and the rest "
                                   f"renumbered: entry {seq} was written as entry {origin}")
                    else:
                        report.add(seq, "reordered", f"entries were reordered: the entry at {seq} was "
                                   f"written as entry {origin}")
                shift = moved
                prev_disturbed = True
        else:
            if not linked and not gap and not prev_disturbed:
                report.add(seq, "unlinked", f"entry {seq} does not follow entry {seq - 1}: its previous "
                           f"hash is not entry {seq - 1}'s (entry {seq - 1} was rewritten with a new hash, "
                           "or inserted)")
            prev_disturbed = gap and not linked
            shift = 0
        if anchor is not None and seq == anchor["seq"]:
            anchor_seen = True
            if row.hash != anchor["hash"]:
                report.add(seq, "anchor", f"entry {seq} is not the one the anchor records: the log was "
                           "rewritten up to here")
        prev, prev_origin, expected = row, origin if origin is not None else seq, seq + 1
        report.last_seq, report.last_hash = seq, row.hash
    last = report.last_seq
    if report.head_seq > last:
        report.add(last + 1, "truncated", f"the log ends at entry {last} but its head records entry "
                   f"{report.head_seq}: entries after {last} were deleted")
    elif report.head_seq < last:
        report.add(report.head_seq + 1, "inserted", f"entries {report.head_seq + 1} to {last} come after "
                   f"the head (entry {report.head_seq}): they were added outside the log")
    elif report.head_hash != report.last_hash:
        report.add(last, "head", f"entry {last} is not the one the head records (its hash differs)")
    if anchor is not None and not anchor_seen:
        if anchor["seq"] > last:
            report.add(last + 1, "truncated", f"the log ends at entry {last} but the anchor records "
                       f"entry {anchor['seq']}: the log was cut short")
        else:
            report.add(int(anchor["seq"]), "missing", f"entry {anchor['seq']}, which the anchor records, "
                       "is missing")
    return report


def anchor_of(conn: Connection) -> dict[str, Any]:
    """The current head as an anchor to keep elsewhere: sequence, hash and the entry's time."""
    seq, digest = head(conn)
    at = conn.execute(select(audit_log.c.at).where(audit_log.c.seq == seq)).scalar()
    return {"labelloop_audit_anchor": 1, "seq": seq, "hash": digest,
            "at": format_time(at) if at is not None else None}


def parse_anchor(text: str | bytes) -> dict[str, Any]:
    """An anchor as `anchor_of` wrote it; ValueError naming what is wrong."""
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise ValueError(f"not JSON: {e}") from None
    return check_anchor(doc)


def check_anchor(doc: Any) -> dict[str, Any]:
    """The seq and hash of an anchor document; ValueError naming the field that is wrong."""
    if not isinstance(doc, dict):
        raise ValueError("an anchor is a JSON object with seq and hash")
    seq, digest = doc.get("seq"), doc.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValueError("field 'seq': a whole number 0 or more")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("field 'hash': 64 lowercase hexadecimal digits")
    return {"seq": seq, "hash": digest, "at": doc.get("at")}
