"""What a generation job sends for an item and what it adds to it: the messages, the new
candidates' ids, and the candidate objects of docs/feedback.md (`{"id", "content", "model", "meta"}`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

ROLES = ("system", "user", "assistant", "tool")
_NUMBERED = re.compile(r"^r([0-9]{1,9})$")


def messages_for(value: Any, kind: str, system_prompt: str | None) -> list[dict[str, str]] | None:
    """The chat messages that ask for the item's candidates, or None when there is no prompt.

    A text prompt is one user message. A conversation goes as it is, minus any assistant messages
    at its end: the candidates answer the last turn, so an answer already there (an import keeps a
    chat's last assistant message as a candidate) is not context. The system prompt goes first
    unless the conversation has its own.
    """
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            return None
        messages = [{"role": "user", "content": value}]
    else:
        if not isinstance(value, list):
            return None
        messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in value
                    if isinstance(m, dict) and "role" in m and "content" in m]
        while messages and messages[-1]["role"] == "assistant":
            messages.pop()
        if not messages:
            return None
    if system_prompt and messages[0]["role"] != "system":
        messages.insert(0, {"role": "system", "content": system_prompt})
    return messages


def count(value: Any) -> int:
    """Candidates an item's responses value holds (none when absent)."""
    return len(value) if isinstance(value, list) else 0


def next_ids(existing: Sequence[Any], n: int) -> list[str]:
    """`n` fresh ids continuing the item's numbering: after r1, r2 come r3, r4, ...

    Numbering goes on after the highest `r<number>`, and after the number of candidates when their
    ids are of another form (`gpt4`, `claude`: then r3, r4), skipping any id taken.
    """
    taken = {c.get("id") for c in existing if isinstance(c, dict)}
    numbers = [int(m.group(1)) for c in taken if isinstance(c, str) and (m := _NUMBERED.match(c))]
    start = max([len(existing), *numbers])
    out: list[str] = []
    k = start
    while len(out) < n:
        k += 1
        if f"r{k}" not in taken:
            out.append(f"r{k}")
    return out
