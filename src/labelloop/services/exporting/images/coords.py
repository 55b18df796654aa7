"""Pixel coordinates through a format's arithmetic and back, so that round trips are exact.

COCO writes a box as [x, y, w, h] with w = x2 - x1, YOLO divides by the image's size, VOC adds 1:
each is one floating-point operation, rounded, so reading a file back by the inverse operation
(x1 + w, n * W, xmin - 1) can miss the number that was written by a unit in the last place. On
import we therefore search the few floats around the estimate for those that the export's own
operation takes to exactly the number in the file, and keep the one with the shortest decimal
form (then the nearest): a coordinate that was an integer, a binary fraction from the canvas or
a short decimal comes back exactly, and exporting what was imported always writes the same
file. Only when no float maps to the number (a file another tool rounded) is the estimate kept.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

Number = int | float
_SPREAD = 4  # units in the last place searched on each side of the estimate
_SHORT = 6  # decimals of the quick first guess


def _around(x: float) -> list[float]:
    out = [x]
    up = down = x
    for _ in range(_SPREAD):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        out += [up, down]
    return out


def _rank(values: Sequence[float], estimates: Sequence[float]) -> tuple[int, float]:
    return (sum(len(repr(v)) for v in values),
            sum(abs(v - e) for v, e in zip(values, estimates, strict=True)))


def invert(
    forward: Callable[..., tuple[float, ...]], target: tuple[float, ...], estimates: Sequence[float]
) -> list[float]:
    """Floats `x` near `estimates` with `forward(*x) == target` exactly: the shortest in decimal,
    then the nearest; the estimates themselves when there are none."""
    quick = [round(e, _SHORT) for e in estimates]
    if forward(*quick) == target:
        return quick  # a short decimal: no other candidate can be as short (see the module)
    found = [list(c) for c in itertools.product(*(_around(float(e)) for e in estimates))
             if forward(*c) == target]
    if not found:
        return [float(e) for e in estimates]
    return min(found, key=lambda c: _rank(c, estimates))


def whole(x: Number) -> Number:
    """An integral float as an int (a normalised file cannot say which it was; ints read best)."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    return x


def text(x: Number) -> str:
    """A number as text that reads back as exactly the same number (ints without a point)."""
    return str(x) if isinstance(x, int) else repr(float(x))


def parse(raw: str) -> Number:
    """A number written in a text format: an int when written as one. ValueError if not finite."""
    raw = raw.strip()
    try:
        return int(raw)
    except ValueError:
        value = float(raw)
    if not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a finite number")
    return value


# -- the formats' operations and their inverses ----------------------------------------------

def width_of(x1: Number, x2: Number) -> Number:
    """COCO's w (and h) of a box from x1 to x2."""
    return x2 - x1


def end_of(x1: Number, w: Number) -> Number:
    """x2 from COCO's x and w: exact with integers, else the float whose x2 - x1 is w."""
    if isinstance(x1, int) and isinstance(w, int):
        return x1 + w
    return invert(lambda x2: (x2 - x1,), (w,), [x1 + w])[0]


def normalised(x: Number, size: int) -> float:
    """YOLO's coordinate: pixels over the image's width (or height)."""
    return x / size


def from_normalised(n: float, size: int) -> Number:
    return whole(invert(lambda x: (x / size,), (n,), [n * size])[0])


def centre_and_size(x1: Number, x2: Number, size: int) -> tuple[float, float]:
    """YOLO's (centre, extent) of [x1, x2], normalised."""
    return (x1 + x2) / 2 / size, (x2 - x1) / size


def from_centre_and_size(c: float, e: float, size: int) -> tuple[Number, Number]:
    half = e * size / 2
    x1, x2 = invert(lambda a, b: centre_and_size(a, b, size), (c, e), [c * size - half, c * size + half])
    return whole(x1), whole(x2)


def one_based(x: Number) -> Number:
    """VOC's xmin from a pixel edge: VOC numbers pixels from 1, so the edge x1 is pixel x1 + 1."""
    return x + 1


def from_one_based(v: Number) -> Number:
    if isinstance(v, int):
        return v - 1
    return invert(lambda x: (x + 1,), (v,), [v - 1])[0]
