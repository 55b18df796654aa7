"""Personal data in text: detection and redaction, as a plain library (no database, no server).

    from labelloop.privacy import detect, placeholders
    found = detect("Write to jean.dupont@example.fr, IBAN FR76 3000 6000 0112 3456 7890 189")
    red = placeholders(text, found)          # red.text: "Write to [EMAIL_1], IBAN [IBAN_1]"
    red.offsets.span_to_original(0, 5)       # answers on the redacted text, back on the original

Pattern detectors (e-mail, phone, IBAN, card, French NIR/SIREN/SIRET, US SSN, IPv4/IPv6) need only
``phonenumbers``; names, places and organisations need the ``pii-ner`` extra. See docs/privacy.md.
"""

from labelloop.privacy.detect import detect, detect_many, pattern_findings
from labelloop.privacy.findings import (
    CHECKSUMMED_KINDS,
    KINDS,
    NER_KINDS,
    PATTERN_KINDS,
    Finding,
    resolve_overlaps,
)
from labelloop.privacy.ner import guess_language
from labelloop.privacy.redact import Numbering, OffsetMap, Redaction, masked, placeholders

__all__ = [
    "CHECKSUMMED_KINDS",
    "KINDS",
    "NER_KINDS",
    "PATTERN_KINDS",
    "Finding",
    "Numbering",
    "OffsetMap",
    "Redaction",
    "detect",
    "detect_many",
    "guess_language",
    "masked",
    "pattern_findings",
    "placeholders",
    "resolve_overlaps",
]
