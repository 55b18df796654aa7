"""Times and cue text as subtitle and speaker files write them, both directions (export and import
share this module, as image formats share images/coords.py).

Segment times are seconds rounded to the millisecond (docs/audio.md), so every time is a whole
number of milliseconds `ms = round(s * 1000)`, and `ms / 1000` is the same float again: the
correctly rounded quotient is the double nearest the decimal, which is what the stored value is.
- SRT (SubRip): `HH:MM:SS,mmm`, a comma before the milliseconds, hours at least two digits.
- WebVTT (W3C WebVTT, section 4.1 "cue timings"): `HH:MM:SS.mmm`, a full stop; a reader also
  takes `MM:SS.mmm` (hours left out when zero), minutes and seconds 00 to 59, exactly three
  millisecond digits.
- RTTM and NeMo manifests: decimal seconds, written with three decimals.

Cue text: a cue ends at the first blank line and its timing line is the one holding `-->`, so
neither may appear inside a text. Writing, blank lines (nothing but spaces and tabs) are left
out of a text (line ends are `\\n`), and in SRT, which has no escapes, `-->` becomes `->`. WebVTT escapes
`&`, `<` and `>` as `&amp;`, `&lt;`, `&gt;` (section 4.2.2: `&` and `<` must be; `>` is, so that no
`-->` is left), and reading it undoes every character reference (the HTML5 set, as the spec's
parser does) and drops tags (`<i>`, `<c.x>`, timestamps), keeping a leading voice `<v name>`.
"""

from __future__ import annotations

import html
import re

_SRT_CLOCK = re.compile(r"(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})")
_VTT_CLOCK = re.compile(r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})")
_DECIMAL = re.compile(r"\d+(?:\.\d+)?")
_TAG = re.compile(r"<[^>]*>")
_VOICE = re.compile(r"^<v(?:\.[^ \t>]*)?[ \t]+([^>]*)>")


def milliseconds(seconds: float) -> int:
    return round(seconds * 1000)


def clock(seconds: float, sep: str) -> str:
    """`HH:MM:SS<sep>mmm` (sep `,` for SRT, `.` for WebVTT)."""
    ms = milliseconds(seconds)
    if ms < 0:
        raise ValueError(f"a negative time: {seconds}")
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{milli:03d}"


def parse_clock(text: str, fmt: str) -> float:
    """Seconds from an SRT (`fmt="srt"`) or WebVTT (`"webvtt"`) timestamp; ValueError saying why."""
    pattern, shape = ((_SRT_CLOCK, "HH:MM:SS,mmm") if fmt == "srt"
                      else (_VTT_CLOCK, "HH:MM:SS.mmm or MM:SS.mmm"))
    found = pattern.fullmatch(text)
    if found is None:
        raise ValueError(f"{text[:40]!r} is not a timestamp ({shape})")
    h, m, s, milli = (int(g) if g else 0 for g in found.groups())
    return (((h * 60 + m) * 60 + s) * 1000 + milli) / 1000


def decimal(seconds: float) -> str:
    """Seconds with three decimals (RTTM, manifests)."""
    ms = milliseconds(seconds)
    return f"{ms // 1000}.{ms % 1000:03d}"


def parse_decimal(text: str) -> float:
    """Seconds from a plain non-negative decimal, to the millisecond; ValueError saying why."""
    if _DECIMAL.fullmatch(text) is None:
        raise ValueError(f"{text[:40]!r} is not a number of seconds")
    return round(float(text), 3)


def is_blank(line: str) -> bool:
    """A line that ends a cue: nothing but spaces and tabs."""
    return not line.strip(" \t")


def cue_lines(text: str) -> str:
    """A text as cue lines: line ends `\\n`, and no blank line (one holding nothing but spaces and
    tabs) anywhere, which would end the cue."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line for line in lines if not is_blank(line))


def srt_text(text: str) -> str:
    return cue_lines(text).replace("-->", "->")


def vtt_text(text: str) -> str:
    return cue_lines(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_voice(name: str) -> str:
    """A voice span's opening tag, `<v name>` (its annotation escaped as cue text is)."""
    return f"<v {vtt_text(name).replace(chr(10), ' ')}>"


def read_vtt_text(raw: str) -> tuple[str | None, str]:
    """(the leading voice's name or None, the text without tags and with references undone)."""
    voice = _VOICE.match(raw)
    name = html.unescape(voice.group(1)).strip() if voice else None
    body = raw[voice.end():] if voice else raw
    return name, html.unescape(_TAG.sub("", body))
