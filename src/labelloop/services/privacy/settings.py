"""A project's personal-data policy: what is detected, and what each role is shown (docs/privacy.md,
"On the platform").

Stored as one JSON document on the project (`projects.privacy_settings`); missing keys take the
defaults below. The policy is **off** until a manager turns it on: turning it on is a decision about
the project's data (which kinds matter, which regions' phone numbers), and an existing project must
not change under its annotators' hands. Once on, annotators see placeholders, reviewers see the
same until they reveal (each reveal logged), and new imports are scanned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from labelloop.errors import Invalid, Problem
from labelloop.privacy import KINDS, NER_KINDS, PATTERN_KINDS
from labelloop.privacy.contact import DEFAULT_REGIONS

Shown = Literal["placeholders", "masked", "original"]
# What a scan reads, part of its key: 2 = nested metadata and JSON, and model transcripts.
READS = 2


class PrivacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(False, description="Detect personal data and hide it from annotators.")
    kinds: tuple[str, ...] = Field(
        tuple(k for k in KINDS if k in PATTERN_KINDS),
        description="What is detected: any of the pattern kinds (default: all of them) and, with the "
        "pii-ner extra installed, person, organization, location.",
    )
    regions: tuple[str, ...] = Field(
        DEFAULT_REGIONS, description="ISO 3166 regions whose national phone numbers are read.")
    language: Literal["auto", "en", "fr"] = Field(
        "auto", description="The language of the items for names and places (auto: guessed per item).")
    annotators: Shown = Field(
        "placeholders", description="What annotators see of personal data: placeholders ([PERSON_1]), "
        "masked (•••• of the same length), or original.")
    reveal: Literal["reviewer", "manager"] = Field(
        "reviewer", description="The least role that may reveal an item's original text (logged).")
    scan_on_import: bool = Field(True, description="Scan each import's items as it finishes.")
    blur_faces: bool = Field(
        False, description="Serve images to annotators with faces blurred (the images-models extra).")

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [k for k in v if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown kind(s) {unknown}; known: {', '.join(KINDS)}")
        if not v:
            raise ValueError("at least one kind")
        return tuple(k for k in KINDS if k in v)  # one order, so equal policies have equal keys

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        import phonenumbers

        bad = [r for r in v if r not in phonenumbers.SUPPORTED_REGIONS]
        if bad:
            raise ValueError(f"unknown phone region(s) {bad}: ISO 3166 codes such as US, GB, FR")
        return tuple(v)

    @property
    def scan_key(self) -> str:
        """What makes two scans find the same things: items scanned under another key are scanned
        again (or read on the fly) before an annotator sees them. `READS` names what a scan reads,
        so that scans made before it read more (nested metadata, transcripts) count as stale."""
        body = orjson.dumps([self.kinds, self.regions, self.language, READS])
        return hashlib.sha256(body).hexdigest()[:16]

    @property
    def language_arg(self) -> str | None:
        return None if self.language == "auto" else self.language


def privacy_settings(document: Mapping[str, Any] | None) -> PrivacySettings:
    """The settings of a stored document (parsed once per distinct document: on the hot path)."""
    if not document:
        return _DEFAULT
    return _parsed(orjson.dumps(document, option=orjson.OPT_SORT_KEYS))


@lru_cache(maxsize=512)
def _parsed(document: bytes) -> PrivacySettings:
    return PrivacySettings.model_validate(orjson.loads(document))


_DEFAULT = PrivacySettings()


def check_privacy_settings(document: Mapping[str, Any]) -> PrivacySettings:
    """Validated settings, or Invalid naming each wrong key as `privacy.<key>`; NER kinds need the
    pii-ner extra on this server (asking for them without it would fail every scan)."""
    try:
        settings = PrivacySettings.model_validate(dict(document))
    except ValidationError as e:
        raise Invalid("invalid privacy settings", [
            Problem(err["msg"], field="privacy." + ".".join(str(p) for p in err["loc"]))
            for err in e.errors()
        ]) from None
    if NER_KINDS & set(settings.kinds) and not ner_available():
        raise Invalid("invalid privacy settings", [Problem(
            "names, organisations and places need the pii-ner extra on the server "
            "(pip install 'labelloop[pii-ner]')", field="privacy.kinds")])
    if settings.blur_faces and not _installed("cv2"):
        raise Invalid("invalid privacy settings", [Problem(
            "blurring faces needs the images-models extra on the server "
            "(pip install 'labelloop[images-models]')", field="privacy.blur_faces")])
    return settings


def ner_available() -> bool:
    return _installed("spacy")


def _installed(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None
