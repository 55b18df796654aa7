"""National identifiers: French NIR (social security), SIREN and SIRET (companies), US SSN."""

from __future__ import annotations

import re
from collections.abc import Iterator

from labelloop.privacy.banking import card_issuer_ok
from labelloop.privacy.checksums import luhn_valid
from labelloop.privacy.digits import digit_runs, one_separator
from labelloop.privacy.findings import Finding

# NIR: sex (1, 2; 7, 8 for the provisional numbers, NIA), year, month, department (2A/2B in
# Corsica), commune, order number, then the two-digit key. The first digits 3 and 4 (rare, for some
# people born abroad) are left out: with them every American Express number (34, 37) would be read as
# a NIR one time in 97. Single spaces, dots or dashes may split it, on its fields' boundaries only.
_NIR_FIELD_ENDS = (1, 3, 5, 7, 10, 13)
_NIR = re.compile(
    r"(?<![\w.])[1278](?:[ .\-]?\d){4}[ .\-]?(?:\d[ .\-]?\d|2[AaBb])(?:[ .\-]?\d){6}"
    r"[ .\-]?\d[ .\-]?\d(?![\w]|[.\-]\d)"
)
# Just before a number: an international prefix ("+49(0) 489007674") makes it a phone number, a card
# word makes 14 digits that are both a SIRET and a Diners Club card a card.
_PHONE_PREFIX = re.compile(r"(?:\+\d{1,3}\s?(?:\(0\))?|\(0\d{0,4}\))\s?$")
_CARD_CONTEXT = re.compile(r"\b(?:card|carte|karte|kreditkarte|cb|visa|diners)\b", re.IGNORECASE)
_COMPANY_CONTEXT = re.compile(r"\b(?:siret|siren|rcs)\b", re.IGNORECASE)
_SSN_CONTEXT = re.compile(r"\b(?:ssn|social\s+security|ss\s*#|ss\s+no)\b", re.IGNORECASE)
_SSN_DASHED = re.compile(r"(?<![\w\-])(\d{3})([\- ])(\d{2})\2(\d{4})(?![\w]|-\d)")
_SSN_PLAIN = re.compile(r"(?<![\w\-])\d{9}(?![\w]|-\d)")
LA_POSTE_SIREN = "356000000"


def nir_key(first13: str) -> int:
    """The NIR key: 97 - (n mod 97), n the first 13 characters as a number, Corsica's 2A read as 19
    and 2B as 18 (INSEE's rule since departments 20 split in 1976)."""
    number = first13.upper()
    if number[5:7] == "2A":
        number = number[:5] + "19" + number[7:]
    elif number[5:7] == "2B":
        number = number[:5] + "18" + number[7:]
    return 97 - int(number) % 97


def nir_valid(nir: str) -> bool:
    """True for 15 characters with a known first digit, a plausible month (01-12, 20-42 or 50-99,
    INSEE's codes for an unknown month) and the right key."""
    if len(nir) != 15 or not (nir[:5] + nir[7:]).isdigit() or nir[0] not in "1278":
        return False
    if not (nir[5:7].isdigit() or nir[5:7].upper() in ("2A", "2B")):
        return False
    month = int(nir[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    return nir_key(nir[:13]) == int(nir[13:])


def find_nirs(text: str) -> Iterator[Finding]:
    """French social-security numbers (NIR) with a valid key."""
    for m in _NIR.finditer(text):
        compact, cuts = "", []
        for ch in m.group():
            if ch.isalnum():
                compact += ch
            else:
                cuts.append(len(compact))
        # "3722 300752 21211" is an Amex grouping, not a NIR's.
        if all(c in _NIR_FIELD_ENDS for c in cuts) and nir_valid(compact):
            yield Finding(m.start(), m.end(), "fr_nir", m.group())


def siren_valid(digits: str) -> bool:
    return len(digits) == 9 and luhn_valid(digits)


def siret_valid(digits: str) -> bool:
    """A valid SIREN followed by a 5-digit establishment number, the 14 digits passing Luhn; La Poste's
    establishments share one SIREN and use a digit sum that is a multiple of 5 instead.

    Checking the SIREN inside matters: a Diners Club card is 14 Luhn-valid digits too, and only one
    in ten of those starts with a Luhn-valid 9 digits.
    """
    if len(digits) != 14 or not digits.isdigit():
        return False
    if digits.startswith(LA_POSTE_SIREN):
        return luhn_valid(digits) or sum(int(d) for d in digits) % 5 == 0
    return siren_valid(digits[:9]) and luhn_valid(digits)


def find_sirens_sirets(text: str) -> Iterator[Finding]:
    """SIREN (9 digits, or 3-3-3) and SIRET (14 digits, or 3-3-3-5) written as a whole number, with
    the same separator (space or dot) throughout.

    Nine digits pass Luhn one time in ten, so the context just before decides the doubtful cases: an
    international phone prefix makes the number a phone's, "SSN" makes nine plain digits an SSN, and
    a card word makes 14 digits that are also a valid card number a card.
    """
    for run in digit_runs(text):
        if not one_separator(run, " \u00a0\u202f."):
            continue
        digits, sizes = run.digits(text), run.sizes()
        if _PHONE_PREFIX.search(text, max(0, run.start - 10), run.start):
            continue
        if sizes in ((14,), (3, 3, 3, 5)) and siret_valid(digits):
            before = text[max(0, run.start - 60):run.start]
            if (sizes == (14,) and card_issuer_ok(digits) and _CARD_CONTEXT.search(before)
                    and not _COMPANY_CONTEXT.search(before)):
                continue
            yield Finding(run.start, run.end, "fr_siret", text[run.start:run.end])
        elif sizes in ((9,), (3, 3, 3)) and siren_valid(digits):
            if sizes == (9,) and _SSN_CONTEXT.search(text, max(0, run.start - 30), run.start):
                continue
            yield Finding(run.start, run.end, "fr_siren", text[run.start:run.end])


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """The SSA's structure rules: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    return (area != "000" and area != "666" and area[0] != "9" and group != "00"
            and serial != "0000")


def find_ssns(text: str) -> Iterator[Finding]:
    """US social-security numbers: 123-45-6789 or 123 45 6789 anywhere; nine plain digits only with
    "SSN" or "social security" in the 30 characters before (alone they are any number)."""
    for m in _SSN_DASHED.finditer(text):
        if ssn_valid(m.group(1), m.group(3), m.group(4)):
            yield Finding(m.start(), m.end(), "us_ssn", m.group())
    for m in _SSN_PLAIN.finditer(text):
        d = m.group()
        if ssn_valid(d[:3], d[3:5], d[5:]) and _SSN_CONTEXT.search(text, max(0, m.start() - 30), m.start()):
            yield Finding(m.start(), m.end(), "us_ssn", d)
