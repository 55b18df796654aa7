"""The Content-Disposition header of a download, for any file name (RFC 6266 with RFC 8187).

HTTP header values are Latin-1 on the wire, so a project named in Japanese or Greek cannot go
into `filename="..."` as it is (the server failed with a 500). The header therefore carries the
name twice: `filename*=UTF-8''...` percent-encoded, which every current browser prefers, and an
ASCII `filename="..."` for the rest, in which quotes, backslashes and control characters,
which would end or break the quoted string, are replaced.
"""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote

# What may stand in the quoted ASCII fallback: printable ASCII less the quote and the backslash
# (which would end or escape the quoted string) and the slash (a path, to a browser).
_FALLBACK_OK = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\", "/"}


def _ascii_fallback(name: str) -> str:
    # Accented Latin letters keep their base letter (é -> e); anything else becomes "_".
    decomposed = unicodedata.normalize("NFKD", name)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = "".join(c if c in _FALLBACK_OK else "_" for c in kept).strip()
    path = PurePosixPath(text)
    if not path.stem.strip("_ ."):  # nothing of the name survived: keep at least its suffix
        return "download" + path.suffix
    return text


def content_disposition(filename: str, *, disposition: str = "attachment") -> str:
    """`attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded UTF-8>`."""
    # `quote` with no safe characters leaves only unreserved ASCII, so the value is a valid token.
    encoded = quote(filename, safe="", encoding="utf-8", errors="replace")
    return f"{disposition}; filename=\"{_ascii_fallback(filename)}\"; filename*=UTF-8''{encoded}"
