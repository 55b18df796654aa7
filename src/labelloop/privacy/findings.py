"""What a detector returns, the kinds it knows, and how overlapping findings are resolved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Every kind, in priority order: when two findings overlap, the one whose kind comes first wins.
# Kinds validated by a checksum come first (a passing mod-97 or Luhn check is strong evidence),
# then kinds validated by their structure (SSN rules, e-mail syntax, IP parsing, numbering plans),
# then the statistical NER kinds, which are the least certain. The French identifiers come before
# cards: a SIRET is Luhn-valid by construction, so its 14 digits can also read as a Diners card.
KINDS: tuple[str, ...] = (
    "iban", "fr_nir", "fr_siret", "fr_siren", "card",
    "email", "us_ssn", "ipv6", "ipv4", "phone",
    "person", "organization", "location",
)
PATTERN_KINDS: frozenset[str] = frozenset(KINDS[:10])
NER_KINDS: frozenset[str] = frozenset(KINDS[10:])
CHECKSUMMED_KINDS: frozenset[str] = frozenset(KINDS[:5])
PRIORITY: dict[str, int] = {kind: rank for rank, kind in enumerate(KINDS)}

# The word inside a placeholder, e.g. ``[PERSON_1]``.
PLACEHOLDER_LABEL: dict[str, str] = {
    "iban": "IBAN", "card": "CARD", "fr_nir": "NIR", "fr_siret": "SIRET", "fr_siren": "SIREN",
    "email": "EMAIL", "us_ssn": "SSN", "ipv6": "IP", "ipv4": "IP", "phone": "PHONE",
    "person": "PERSON", "organization": "ORG", "location": "LOCATION",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data: ``text[start:end]`` (character offsets into the original text)."""

    start: int
    end: int
    kind: str
    text: str
    score: float = 1.0

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "kind": self.kind, "text": self.text,
                "score": self.score}


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Non-overlapping findings, sorted by start.

    Greedy by priority: kinds earlier in :data:`KINDS` first, then longer spans, then earlier ones;
    a finding is kept when it overlaps none kept so far. So a Luhn-valid card number beats the phone
    number the matcher saw in its digits, and an e-mail address beats the name NER saw in it.
    """
    ranked = sorted(findings, key=lambda f: (PRIORITY[f.kind], -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for f in ranked:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def check_kinds(kinds: Iterable[str] | None) -> frozenset[str]:
    """The requested kinds (all when None); ValueError naming any unknown one."""
    if kinds is None:
        return frozenset(KINDS)
    chosen = frozenset(kinds)
    unknown = sorted(chosen - set(KINDS))
    if unknown:
        raise ValueError(f"unknown personal-data kind(s) {unknown}; known: {list(KINDS)}")
    return chosen
