"""Strings nested in JSON (an item's metadata, the extra keys of a conversation's messages and of
candidate responses), each named by a JSON Pointer (RFC 6901), and putting redacted strings back.

A path is a prefix (`@meta`, `@json/<field>`) and the pointer's tokens, each escaped as RFC 6901
says (`~` as `~0`, `/` as `~1`), so a key holding a slash still names one place: `@meta/a~1b` is
the key "a/b" at the top of the metadata, `@meta/contact/emails/0` the first string of the list
at its "emails" key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

MAX_DEPTH = 64  # deeper than any import accepts (importing/limits.py); a guard, not a policy


def escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def strings(value: Any, prefix: str, *, skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    """(path, string) for every non-empty string inside `value`, depth first in document order;
    the keys in `skip` are left out at the top level only."""
    stack: list[tuple[str, Any, int]] = [(prefix, value, 0)]
    while stack:
        path, v, depth = stack.pop()
        if isinstance(v, str):
            if v:
                yield path, v
        elif depth <= MAX_DEPTH and isinstance(v, Mapping):
            stack.extend((f"{path}/{escape(k)}", sub, depth + 1) for k, sub in reversed(list(v.items()))
                         if not (depth == 0 and k in skip))
        elif depth <= MAX_DEPTH and isinstance(v, list):
            stack.extend((f"{path}/{i}", sub, depth + 1) for i, sub in reversed(list(enumerate(v))))


def replace(value: Any, prefix: str, texts: Mapping[str, str]) -> Any:
    """A copy of `value` with the string at each path of `texts` under `prefix` replaced; the
    parts no path goes through are shared, not copied."""
    out = value
    start = prefix + "/"
    for path, text in texts.items():
        if path.startswith(start):
            out = _put(out, [unescape(t) for t in path[len(start):].split("/")], text)
        elif path == prefix and isinstance(value, str):
            out = text
    return out


def _put(value: Any, tokens: list[str], text: str) -> Any:
    if not tokens:
        return text if isinstance(value, str) else value
    head, rest = tokens[0], tokens[1:]
    if isinstance(value, Mapping) and head in value:
        return {**value, head: _put(value[head], rest, text)}
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        i = int(head)
        return [*value[:i], _put(value[i], rest, text), *value[i + 1:]]
    return value  # the path does not fit this value (stale): nothing to put
