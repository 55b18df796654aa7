"""The garbage collector's setting for long-running work: the server, the workers, a CLI import.

CPython's cyclic collector now and then walks every tracked object. In a serving process nearly all
of them are what start-up loaded (modules, routes, SQLAlchemy's metadata, Pydantic's validators) and
never become garbage, yet every full pass walks them again, and an import, whose batches of records
survive the young passes, sets off a full pass every few batches. Once a process has started,
`settle` freezes what is alive (Python's `gc.freeze`: out of every later pass, still freed by
reference counting when no longer used); later garbage, cycles included, is collected as before.

Measured through the server (bench/core.py against the commit before, alternately, 100,000
records without ids on SQLite): 26.4 -> 23.8 µs of server CPU per item, 35,500 -> 39,100 items/s;
the annotator's cycle unchanged (2.0 ms, and 2.6 ms at saturation, in three rounds each). A larger
young generation as well (10,000 instead of 700) was no better for imports and slowed the cycle.
`labelloop import` of the same 100,000 records: 5.6 -> 5.0 s, start-up included.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what start-up left behind and freeze the rest. Called once a server or worker
    process has started (not by the tests' in-process apps), and before a CLI import."""
    gc.collect()
    gc.freeze()
