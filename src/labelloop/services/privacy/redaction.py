"""An item as someone who need not see its personal data is shown it, and answers moved between
the shown text and the original.

Placeholders are numbered across the whole item, not per text: "Jean Dupont" is `[PERSON_1]` in
the text field and in every message of the conversation alike, so an annotator can follow who
is who. Each text keeps its own `OffsetMap` (labelloop.privacy): spans an annotator draws on the
shown text go back to the original before they are validated and stored, and stored spans
(pre-labels, one's own earlier answer) come forward before they are shown. Masking keeps every
offset, so it needs no map.

Transcripts inside answer-shaped values (a model's pre-label, an imported `meta.prelabel`, answers)
are redacted with the same numbering, and mapped back when an answer comes in
(services/privacy/transcripts.py): `values` names the ones read with the item, by path prefix
(`@prelabel/`, `@pred/`), their findings in `findings` under those paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labelloop.privacy import Finding, Numbering, OffsetMap, masked, placeholders
from labelloop.schema import LabelSchema
from labelloop.services.privacy.texts import PRELABEL, replace_meta, replace_texts
from labelloop.services.privacy.transcripts import (
    PREDICTION_PREFIX,
    PRELABEL_PREFIX,
    Detect,
    Redactor,
    Restorer,
    has_transcripts,
)

SPANS_TYPES = frozenset({"spans", "response_spans"})


@dataclass(frozen=True)
class ItemRedaction:
    """The data as shown, the per-text maps (placeholders only), and what each placeholder stands
    for (`legend`: for those who may reveal, never sent to annotators)."""

    data: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    maps: dict[str, OffsetMap] = field(default_factory=dict)
    legend: dict[str, str] = field(default_factory=dict)
    hidden: int = 0  # findings hidden in the item's own texts
    # Transcripts: what redacts them (None: the schema has none) and the values read with the item
    # (by prefix) as shown.
    transcripts: Redactor | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def restorer(self) -> Restorer | None:
        return None if self.transcripts is None else self.transcripts.restorer

    def answer_to_original(self, schema: LabelSchema, value: Any) -> Any:
        """An answer given on the shown text, with its spans' offsets and its transcripts' words
        in the original."""
        if self.transcripts is not None:
            value = self.transcripts.restorer.restore(schema, value)
        return _move(schema, value, self.maps, to_original=True)

    def answer_to_shown(self, schema: LabelSchema, value: Any) -> Any:
        """A stored answer (offsets in the original), with its spans on the shown text and its
        transcripts redacted (detected now when not known: an annotator may have typed a name)."""
        if self.transcripts is not None:
            value = self.transcripts.redact(schema, value)
        return _move(schema, value, self.maps, to_original=False)

    def value_shown(self, schema: LabelSchema, prefix: str, value: Any) -> Any:
        """A value read with the item (`values`), as shown: spans moved, transcripts redacted."""
        shown = self.values.get(prefix, value) if value is not None else None
        return _move(schema, shown, self.maps, to_original=False)


def redact_item(
    schema: LabelSchema, data: Mapping[str, Any], texts: Iterable[tuple[str, str]],
    findings: Mapping[str, Sequence[Finding]], mode: str, meta: Mapping[str, Any] | None = None,
    *, prediction: Any = None, detect: Detect | None = None, transcripts: bool = True,
) -> ItemRedaction:
    """`data` (and `meta`) with every finding of each (path, text) replaced: `mode` placeholders or
    masked; with `transcripts` (and a schema that has them), the transcripts of `meta.prelabel` and
    of `prediction` too (their findings in `findings` under their prefixes), and of answers shown
    later (detected with `detect`)."""
    shown: dict[str, str] = {}
    maps: dict[str, OffsetMap] = {}
    legend: dict[str, str] = {}
    numbering = Numbering()  # across the item's texts (module docstring)
    hidden = 0
    for path, text in texts:
        found = sorted(findings.get(path, ()), key=lambda f: (f.start, f.end))
        found = [f for f in found if 0 <= f.start < f.end <= len(text)]  # a stale finding: skipped
        if not found:
            continue
        hidden += len(found)
        if mode == "masked":
            shown[path] = masked(text, found)
            continue
        done = placeholders(text, _apart(found), numbering=numbering)
        shown[path] = done.text
        maps[path] = done.offsets
        for token, surface in done.legend.items():
            legend.setdefault(token, surface)
    red = ItemRedaction(dict(data), dict(meta or {})) if not shown else ItemRedaction(
        replace_texts(schema.fields, data, shown), replace_meta(meta or {}, shown), maps, legend, hidden)
    if not transcripts or not has_transcripts(schema):
        return red
    restorer = Restorer(legend)  # shares the item's legend: a token means one thing in the item
    redactor = Redactor(mode, numbering, restorer, detect=detect)
    values: dict[str, Any] = {}
    prelabel = (meta or {}).get(PRELABEL)
    if isinstance(prelabel, Mapping):
        values[PRELABEL_PREFIX] = redactor.redact(schema, prelabel, PRELABEL_PREFIX, findings)
        red.meta[PRELABEL] = values[PRELABEL_PREFIX]
    if prediction is not None:
        values[PREDICTION_PREFIX] = redactor.redact(schema, prediction, PREDICTION_PREFIX, findings)
    return ItemRedaction(red.data, red.meta, red.maps, legend, red.hidden, redactor, values)


def _apart(found: Sequence[Finding]) -> list[Finding]:
    """Sorted findings less any that overlaps the one kept before it (detection resolves overlaps;
    a stored set might not)."""
    kept: list[Finding] = []
    for f in found:
        if not kept or f.start >= kept[-1].end:
            kept.append(f)
    return kept


def _move(schema: LabelSchema, value: Any, maps: Mapping[str, OffsetMap], *, to_original: bool) -> Any:
    if not maps or not isinstance(value, Mapping):
        return value
    out = dict(value)
    for q in schema.questions:
        if q.kind.name not in SPANS_TYPES or q.spec.target is None or q.name not in out:
            continue
        raw = out[q.name]
        if q.kind.name == "spans":
            offsets = maps.get(q.spec.target)
            if offsets is not None:
                out[q.name] = _move_spans(raw, offsets, to_original)
        elif isinstance(raw, Mapping) and isinstance(raw.get("response"), str):
            offsets = maps.get(f"{q.spec.target}/{raw['response']}")
            if offsets is not None:
                out[q.name] = {**raw, "spans": _move_spans(raw.get("spans"), offsets, to_original)}
    return out


def _move_spans(spans: Any, offsets: OffsetMap, to_original: bool) -> Any:
    """Each well-formed span moved; anything else left for the schema's validation to name."""
    if not isinstance(spans, list):
        return spans
    moved = []
    for s in spans:
        ok = isinstance(s, Mapping) and all(
            isinstance(s.get(k), int) and not isinstance(s.get(k), bool) and s[k] >= 0
            for k in ("start", "end"))
        if not ok:
            moved.append(s)
            continue
        start, end = (offsets.span_to_original if to_original else offsets.span_to_redacted)(
            s["start"], s["end"])
        moved.append({**s, "start": start, "end": end})
    return moved
