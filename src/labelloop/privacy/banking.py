"""IBANs (ISO 13616: country length + mod 97) and payment card numbers (Luhn + issuer ranges)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from labelloop.privacy.checksums import luhn_valid, mod97_iban_valid
from labelloop.privacy.digits import digit_runs
from labelloop.privacy.findings import Finding

# IBAN length per country, from the SWIFT IBAN registry (release 99, 2025); tests compare it with
# python-stdnum's copy of the registry.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})")
_IBAN_SEPS = " \u00a0\u202f-"


def find_ibans(text: str) -> Iterator[Finding]:
    """IBANs written whole or in groups (one space or dash between characters), in either case.

    From each "two letters, two digits" start, exactly the country's number of characters is read
    (so a following word in capitals is never swallowed); the IBAN must then end at a word boundary
    and pass mod 97.
    """
    for m in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(m.group(1).upper())
        if length is None:
            continue
        chars = [m.group(1).upper(), m.group(2)]
        count, i, end = 4, m.end(), m.end()
        while count < length and i < len(text):
            ch = text[i]
            if ch.isascii() and ch.isalnum():
                chars.append(ch.upper())
                count += 1
                i += 1
                end = i
            elif ch in _IBAN_SEPS and i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isalnum():
                i += 1
            else:
                break
        if count != length or (end < len(text) and text[end].isalnum()):
            continue
        if mod97_iban_valid("".join(chars)):
            yield Finding(m.start(), end, "iban", text[m.start():end])


# Issuer identification ranges (ISO/IEC 7812 IINs) with the lengths each network issues:
# (first digits low, high, lengths).
_CARD_RANGES: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})), (2221, 2720, frozenset({16})),  # Mastercard
    (34, 34, frozenset({15})), (37, 37, frozenset({15})),  # American Express
    (300, 305, frozenset(range(14, 20))), (36, 36, frozenset(range(14, 20))),  # Diners Club
    (38, 39, frozenset(range(14, 20))),
    (6011, 6011, frozenset(range(16, 20))), (644, 649, frozenset(range(16, 20))),  # Discover
    (65, 65, frozenset(range(16, 20))),
    # JCB: its published range is 3528-3589; the rest of 35 is unassigned, and accepting it costs no
    # precision that Luhn does not already guard (test generators such as Faker draw all of 35).
    (35, 35, frozenset(range(16, 20))), (1800, 1800, frozenset({15})),  # JCB
    (2131, 2131, frozenset({15})),
    (62, 62, frozenset(range(16, 20))),  # UnionPay
    (2200, 2204, frozenset(range(16, 20))),  # Mir
    # Maestro issues 12 to 19 digits: the only network below 13.
    (50, 50, frozenset(range(12, 20))), (56, 69, frozenset(range(12, 20))),
)


def card_issuer_ok(digits: str) -> bool:
    """True when *digits* starts with a known issuer range and has a length that issuer uses."""
    for low, high, lengths in _CARD_RANGES:
        width = len(str(low))
        if len(digits) in lengths and low <= int(digits[:width]) <= high:
            return True
    return False


def find_cards(text: str) -> Iterator[Finding]:
    """Card numbers: 12-19 digits, whole or in groups split by single spaces or dashes, passing Luhn
    and starting with a known issuer range at a length it issues.

    Inside a longer run of groups ("4111 1111 1111 1111 2026") the longest valid window of whole
    groups is taken, leftmost first; a dot never joins two groups of a card.
    """
    for run in digit_runs(text):
        n = len(run.groups)
        i = 0
        while i < n:
            best: tuple[int, int] | None = None
            for j in range(n, i, -1):
                if any(s == "." for s in run.seps[i:j - 1]):
                    continue
                digits = run.digits(text, i, j)
                if 12 <= len(digits) <= 19 and luhn_valid(digits) and card_issuer_ok(digits):
                    best = (i, j)
                    break
            if best is None:
                i += 1
                continue
            start, end = run.groups[best[0]][0], run.groups[best[1] - 1][1]
            yield Finding(start, end, "card", text[start:end])
            i = best[1]
