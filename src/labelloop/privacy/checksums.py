"""Check digits used by the identifiers: Luhn (ISO/IEC 7812-1, annex B) and ISO 7064 mod 97-10."""

from __future__ import annotations


def luhn_valid(digits: str) -> bool:
    """True when the Luhn sum of *digits* is a multiple of 10.

    From the right, every second digit is doubled (and 9 subtracted when the double exceeds 9); the
    number is valid when the sum of all digits is 0 mod 10 (H. P. Luhn, US patent 2,950,048, 1960).
    """
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mod97_iban_valid(iban: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers (A=10 ... Z=35),
    and the whole must be 1 mod 97 (ISO 7064 MOD 97-10)."""
    if not iban.isalnum() or not iban.isascii():
        return False
    moved = iban[4:] + iban[:4]
    remainder = 0
    for ch in moved.upper():
        value = int(ch, 36)  # '0'-'9' -> 0-9, 'A'-'Z' -> 10-35
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder == 1
