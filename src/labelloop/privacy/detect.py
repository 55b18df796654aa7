"""The entry points: ``detect`` for one text, ``detect_many`` for a batch."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from labelloop.privacy.banking import find_cards, find_ibans
from labelloop.privacy.contact import DEFAULT_REGIONS, find_emails, find_phones
from labelloop.privacy.findings import NER_KINDS, Finding, check_kinds, resolve_overlaps
from labelloop.privacy.national_ids import find_nirs, find_sirens_sirets, find_ssns
from labelloop.privacy.ner import MODELS, guess_language, ner_findings
from labelloop.privacy.network import find_ipv4, find_ipv6

_PATTERNS: tuple[tuple[frozenset[str], Callable[[str], Iterator[Finding]]], ...] = (
    (frozenset({"iban"}), find_ibans),
    (frozenset({"card"}), find_cards),
    (frozenset({"fr_nir"}), find_nirs),
    (frozenset({"fr_siren", "fr_siret"}), find_sirens_sirets),
    (frozenset({"us_ssn"}), find_ssns),
    (frozenset({"email"}), find_emails),
    (frozenset({"ipv4"}), find_ipv4),
    (frozenset({"ipv6"}), find_ipv6),
)


def pattern_findings(text: str, kinds: frozenset[str], regions: Sequence[str]) -> list[Finding]:
    """Every pattern detector's findings of *kinds*, overlaps not yet resolved."""
    found: list[Finding] = []
    for provides, finder in _PATTERNS:
        if provides & kinds:
            found.extend(f for f in finder(text) if f.kind in kinds)
    if "phone" in kinds:
        # Digits already claimed by a kind that outranks phones (an IBAN, a card, an IP address...) are
        # blanked for the phone matcher: it would only find phones inside them, and lose, and it
        # spends its time on every digit run it sees.
        masked = list(text)
        for f in found:
            masked[f.start:f.end] = " " * (f.end - f.start)
        found.extend(Finding(p.start, p.end, p.kind, text[p.start:p.end])
                     for p in find_phones("".join(masked), regions))
    return found


def detect(
    text: str,
    *,
    kinds: Iterable[str] | None = None,
    language: str | None = None,
    regions: Sequence[str] = DEFAULT_REGIONS,
    fallback_language: str = "en",
) -> list[Finding]:
    """Personal data in *text*: non-overlapping findings sorted by start (see ``resolve_overlaps``).

    ``kinds``: a subset of :data:`~labelloop.privacy.findings.KINDS` (all when None; the NER kinds
    need the ``pii-ner`` extra). ``language``: "en" or "fr" for NER; None guesses it per text.
    ``regions``: the ISO 3166 regions national phone numbers are read in.
    """
    return detect_many([text], kinds=kinds, languages=language, regions=regions,
                       fallback_language=fallback_language)[0]


def detect_many(
    texts: Sequence[str],
    *,
    kinds: Iterable[str] | None = None,
    languages: str | Sequence[str | None] | None = None,
    regions: Sequence[str] = DEFAULT_REGIONS,
    fallback_language: str = "en",
    batch_size: int = 64,
) -> list[list[Finding]]:
    """``detect`` over many texts; NER runs in batches of *batch_size* through spaCy's ``nlp.pipe``.

    ``languages``: one language for all, one per text (None entries are guessed), or None to guess
    each.
    """
    chosen = check_kinds(kinds)
    regions = _check_regions(regions)
    if fallback_language not in MODELS:
        raise ValueError(f"fallback_language must be one of {sorted(MODELS)}, not {fallback_language!r}")
    results = [pattern_findings(text, chosen, regions) for text in texts]
    ner_kinds = chosen & NER_KINDS
    if ner_kinds and texts:
        langs = _languages(texts, languages, fallback_language)
        for found, entities in zip(results, ner_findings(texts, langs, ner_kinds, batch_size=batch_size),
                                   strict=True):
            found.extend(entities)
    return [resolve_overlaps(found) for found in results]


def _languages(texts: Sequence[str], languages: str | Sequence[str | None] | None,
               fallback: str) -> list[str]:
    if languages is None or isinstance(languages, str):
        given: list[str | None] = [languages] * len(texts)
    else:
        given = list(languages)
        if len(given) != len(texts):
            raise ValueError(f"{len(given)} languages for {len(texts)} texts")
    out = []
    for i, (text, lang) in enumerate(zip(texts, given, strict=True)):
        if lang is None:
            out.append(guess_language(text, fallback=fallback))
        elif lang in MODELS:
            out.append(lang)
        else:
            raise ValueError(f"text {i}: no NER model for language {lang!r}; "
                             f"models exist for {sorted(MODELS)}")
    return out


def _check_regions(regions: Sequence[str]) -> tuple[str, ...]:
    import phonenumbers

    if isinstance(regions, str):
        raise TypeError("regions must be a sequence of region codes, e.g. ('US', 'FR'), not a string")
    known = phonenumbers.SUPPORTED_REGIONS
    bad = [r for r in regions if r not in known]
    if bad:
        raise ValueError(f"unknown phone region(s) {bad}: use ISO 3166 codes such as 'US', 'GB', 'FR'")
    return tuple(regions)
