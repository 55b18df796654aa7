"""The integer types the API accepts: every id, cursor and count is bounded in its declared type.

An unbounded `int` lets a caller send 2**63 or more, which the database cannot bind (SQLite
raises an overflow, PostgreSQL an out-of-range error) and which surfaced as a 500 before any
permission check ran. Bounding the type makes FastAPI answer 422 in the project's error shape
and puts `minimum`/`maximum` into the OpenAPI document, so clients and fuzzers see the rule.

Path and query values arrive as text and are converted (lax); JSON bodies use the strict forms,
because in JSON `true` is not an id and `1.5` is not a count.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.convertors import Convertor, register_url_convertor

# The largest BIGINT on PostgreSQL and INTEGER on SQLite: every id column holds at most this.
MAX_ID = 2**63 - 1
# Bounds the services check as well (projects: a lease of at most 7 days; answers: a client-measured
# duration of at most a day); repeated here so that the OpenAPI document states them.
MAX_LEASE_SECONDS = 7 * 86400
MAX_DURATION_MS = 86_400_000

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A row id in a path or query (ids start at 1)."""

Cursor = Annotated[int, Field(ge=0, le=MAX_ID)]
"""A keyset position in a query: rows with a larger (or smaller) id; 0 means from the start."""

BodyId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
"""A row id in a JSON body."""


class _IdSegment(Convertor[str]):
    """A path segment that looks like an integer; FastAPI still parses and bounds it (`Id`).

    Routes write `{item_id:id}` so that a literal sibling such as `/items/priorities` is never
    taken for an item id: a GET there is a 405 (the path exists for POST), not a 422 about
    `item_id`. Signs are matched too, so `-1` reaches validation and is a 422 like in a query.
    The text is passed on unconverted: validation, not the router, decides what is too large.
    """

    regex = "-?[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


# Routes compile their paths when they are declared, so the segment type is registered when
# this module is first imported, which every routes module does before declaring a route.
register_url_convertor("id", _IdSegment())
