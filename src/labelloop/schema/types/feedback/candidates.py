"""What the feedback question types share: candidate ids checked against the item's responses.

Answers name candidates by id, never by position (the workbench may show them in any order);
when the caller passes the item's `Responses`, every id must be one of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from labelloop.schema.label_type import Responses, Target, ValueProblem

VALUE_KEYS_MESSAGE = "unknown key {key!r} (keys: {keys})"


def responses_of(target: Target) -> Responses | None:
    return target if isinstance(target, Responses) else None


def candidate_id(raw: Any, candidates: Responses | None, path: str) -> str:
    """`raw` as the id of one of the item's candidates (any string when they are unknown)."""
    if not isinstance(raw, str):
        raise ValueProblem(f"expected a candidate's id as a string, got {type(raw).__name__}", path=path)
    if not raw:
        raise ValueProblem("expected a candidate's id, got an empty string", path=path)
    if candidates is not None and raw not in candidates.ids:
        raise ValueProblem(
            f"{raw!r} is not a candidate of this item (candidates: {', '.join(candidates.ids)})", path=path
        )
    return raw


def check_keys(value: Any, allowed: Mapping[str, bool], what: str) -> dict[str, Any]:
    """`value` as an object with only the `allowed` keys, those marked True present."""
    if not isinstance(value, dict):
        raise ValueProblem(f"expected {what}, got {type(value).__name__}")
    for key in value:
        if key not in allowed:
            raise ValueProblem(VALUE_KEYS_MESSAGE.format(key=key, keys=", ".join(allowed)), path=f".{key}")
    for key, needed in allowed.items():
        if needed and key not in value:
            raise ValueProblem(f"{key!r} is missing", path=f".{key}")
    return value


def compact_json(value: Any) -> str | None:
    """A value as one line of JSON, for a CSV cell."""
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
