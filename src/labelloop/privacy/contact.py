"""E-mail addresses (a practical subset of RFC 5322 syntax) and phone numbers (libphonenumber)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import phonenumbers

from labelloop.privacy.findings import Finding

DEFAULT_REGIONS: tuple[str, ...] = ("US", "GB", "FR", "DE")

# Local part: dot-atoms (RFC 5322 3.2.3; letters of any script, RFC 6531) that start with a letter,
# digit or underscore, so quotes
# and brackets around an address stay outside it; quoted local parts ("a b"@x) are not matched.
# Domain: labels of letters (any script), digits and inner hyphens, and a top-level label of 2-63
# letters; it must not run on into more word characters.
_ATOM = r"[\w!#$%&'*+/=?^`{|}~\-]"
_LABEL = r"[^\W_](?:[\w\-]{0,61}[^\W_])?"
_EMAIL = re.compile(
    rf"(?<![\w.+\-])\w{_ATOM}*(?:\.{_ATOM}+)*@(?:{_LABEL}\.)+[^\W\d_]{{2,63}}(?![\w\-]|\.\w)"
)


def find_emails(text: str) -> Iterator[Finding]:
    for m in _EMAIL.finditer(text):
        yield Finding(m.start(), m.end(), "email", m.group())


# Where a phone number may be: 6 or more digits with the separators people write between them. The
# matcher is slow next to a regex, so it only runs over texts (and regions) that still have one.
_CANDIDATE = re.compile(r"\d(?:[ \u00a0().\-/]{0,3}\d){5,}")


def find_phones(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> Iterator[Finding]:
    """Phone numbers that are valid in their numbering plan (libphonenumber's VALID leniency).

    Numbers written with a country code are found whatever the region; national ones ("01 42 68 53
    00", "(415) 555-0132") are read as each region in turn, and the first region that finds a valid
    number at a place keeps it. The next region is tried only while some candidate run of digits is
    still unexplained.
    """
    candidates = [(m.start(), m.end()) for m in _CANDIDATE.finditer(text)]
    seen: list[tuple[int, int]] = []
    for region in regions:
        if all(any(a < e and b > s for s, e in seen) for a, b in candidates):
            return
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            start, end = match.start, match.end
            if any(start < b and end > a for a, b in seen):
                continue
            seen.append((start, end))
            yield Finding(start, end, "phone", match.raw_string)
