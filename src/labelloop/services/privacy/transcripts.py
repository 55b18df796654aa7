"""Transcripts inside answers: the `text` of each segment of an `audio_segments` value and its
`words` (docs/audio.md, "Segments"), as a model's pre-label, an imported pre-label or an
annotator's answer holds them; redacted for those who need not see personal data and mapped back
when an annotator answers on the redacted text.

A segment's text is a text like any other (its path `<prefix><question>/<index>`), redacted with
the item's numbering so `[PERSON_1]` is the same person in the item's text, in every segment and in
every answer. Its words follow the text: each word is found in the text in order (a model's words
are the text's tokens, Whisper's with a leading space), and

- with placeholders, the words a finding touches become one word, from the first one's start to the
  last one's end, whose text is the shown text over them ("Jean" 1.0-1.2 s and "Dupont" 1.2-1.6 s
  give "[PERSON_1]" 1.0-1.6 s): a word per token of the text as shown, timings kept;
- masked, each word keeps its timing and its length, its characters masked as the text's are.

Words that cannot be found in the text in order (a model whose words are spelled otherwise) are
read as a text of their own, joined by single spaces (path `<...>/<index>/words`), and redacted the
same way over that text.

**Back to the original** (`Restorer`): a segment sent back as it was shown (text and words) becomes
the original segment again, words and timings included; a text as shown, the original text. In an
edited text each placeholder the item's legend knows (`[PERSON_1]`) becomes the words it stands
for, and a merged placeholder word sent back with its timing becomes the original words again. A
masked run in an edited text cannot say what it hid and stays as typed (docs/privacy.md, "Limits").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labelloop.privacy import Finding, Numbering, OffsetMap, masked, placeholders
from labelloop.schema import LabelSchema

TYPES = frozenset({"audio_segments"})
PRELABEL_PREFIX = "@prelabel/"  # meta.prelabel's transcripts
PREDICTION_PREFIX = "@pred/"  # the latest model version's prediction's transcripts
WORDS = "/words"
TOKEN = re.compile(r"\[[A-Z]+_[0-9]+\]")
Detect = Callable[[list[str]], list[list[Finding]]]


def has_transcripts(schema: LabelSchema) -> bool:
    return any(q.kind.name in TYPES for q in schema.questions)


def _segments(schema: LabelSchema, value: Any) -> Iterator[tuple[str, list[Any]]]:
    if not isinstance(value, Mapping):
        return
    for q in schema.questions:
        segs = value.get(q.name) if q.kind.name in TYPES else None
        if isinstance(segs, list):
            yield q.name, segs


def _words(segment: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    words = segment.get("words")
    if not isinstance(words, list) or not words:
        return None
    if not all(isinstance(w, Mapping) and isinstance(w.get("word"), str) for w in words):
        return None
    return words


def align(text: str, words: Sequence[Mapping[str, Any]]) -> list[tuple[int, int]] | None:
    """Each word's (start, end) in `text`, found in order (a word's surrounding spaces aside);
    None when one is not there."""
    spans = []
    cursor = 0
    for w in words:
        token = w["word"].strip()
        at = text.find(token, cursor) if token else -1
        if at < 0:
            return None
        spans.append((at, at + len(token)))
        cursor = at + len(token)
    return spans


def joined(words: Sequence[Mapping[str, Any]]) -> str:
    return " ".join(w["word"].strip() for w in words)


def value_texts(schema: LabelSchema, value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(path, text) of every transcript in an answer-shaped value: segment texts, and the words of
    a segment whose words are not its text's."""
    out = []
    for name, segs in _segments(schema, value):
        for i, s in enumerate(segs):
            if not isinstance(s, Mapping):
                continue
            raw, words = s.get("text"), _words(s)
            text = raw if isinstance(raw, str) else ""
            if text:
                out.append((f"{prefix}{name}/{i}", text))
            if words is not None and (not text or align(text, words) is None):
                out.append((f"{prefix}{name}/{i}{WORDS}", joined(words)))
    return out


@dataclass
class Restorer:
    """What redacting transcripts for one item showed, kept to send answers back to the original
    (module docstring); filled as texts are redacted, read when an answer comes back."""

    legend: dict[str, str] = field(default_factory=dict)
    # shown segment (times, text, words) -> original (text, words); None: ambiguous (`_keep`)
    segments: dict[Hashable, tuple[Any, Any] | None] = field(default_factory=dict)
    texts: dict[str, str | None] = field(default_factory=dict)  # a shown segment text -> the original
    # a merged placeholder word (start, end, word) -> the original words
    words: dict[tuple[Any, Any, str], list[Any] | None] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.texts or self.words)

    def restore(self, schema: LabelSchema, value: Any) -> Any:
        """An answer given on shown transcripts, with the original words back."""
        if not self or not isinstance(value, Mapping):
            return value
        out = dict(value)
        for name, segs in _segments(schema, value):
            out[name] = [self._segment(s) if isinstance(s, Mapping) else s for s in segs]
        return out

    def _segment(self, s: Mapping[str, Any]) -> Any:
        text, words = s.get("text"), s.get("words")
        exact = self.segments.get(_key(s.get("start"), s.get("end"), text, words))
        if exact is not None:
            restored = {**s, "text": exact[0]}
            if exact[1] is not None:
                restored["words"] = exact[1]
            return restored
        out = dict(s)
        if isinstance(text, str):
            out["text"] = self.texts.get(text) or self._untoken(text)  # an ambiguous one: as typed
        if isinstance(words, list):
            back: list[Any] = []
            for w in words:
                if isinstance(w, Mapping) and isinstance(w.get("word"), str):
                    found = self.words.get((w.get("start"), w.get("end"), w["word"]))
                    if found is not None:
                        back.extend(found)
                        continue
                    w = {**w, "word": self._untoken(w["word"])}
                back.append(w)
            out["words"] = back
        return out

    def _untoken(self, text: str) -> str:
        return TOKEN.sub(lambda m: self.legend.get(m.group(0), m.group(0)), text)


def _key(start: Any, end: Any, text: Any, words: Any) -> Hashable:
    """A segment as compared when it comes back: 1 and 1.0 seconds alike (JSON from a browser)."""
    if isinstance(words, list):
        words = tuple((_num(w.get("start")), _num(w.get("end")), w.get("word")) if isinstance(w, Mapping)
                      else repr(w) for w in words)
    return (_num(start), _num(end), text if isinstance(text, str) else repr(text), repr(words)
            if not isinstance(words, tuple) else words)


def _num(v: Any) -> Any:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else repr(v)


def _keep(registry: dict[Any, Any], shown: Any, original: Any) -> None:
    """Remember what `shown` stood for; two originals shown alike (masks of equal length) make it
    ambiguous, and an ambiguous one is never restored (None): better kept as typed than wrong."""
    if registry.get(shown, original) != original:
        original = None
    registry[shown] = original


@dataclass
class Redactor:
    """Redacts the transcripts of answer-shaped values for one item: `mode` placeholders (sharing
    the item's `numbering`) or masked; findings by path, else by text from `known`, else from
    `detect` (None: nothing more is detected)."""

    mode: str
    numbering: Numbering
    restorer: Restorer
    known: dict[str, list[Finding]] = field(default_factory=dict)
    detect: Detect | None = None
    hidden: int = 0

    def learn(self, texts: Sequence[str]) -> None:
        """Detect the texts not known yet in one call (an export's chunk at once)."""
        todo = list(dict.fromkeys(t for t in texts if t not in self.known))
        if todo and self.detect is not None:
            self.known.update(zip(todo, self.detect(todo), strict=True))

    def redact(self, schema: LabelSchema, value: Any, prefix: str = "",
               findings: Mapping[str, Sequence[Finding]] | None = None) -> Any:
        """`value` with every transcript redacted (a copy; `value` when there is nothing to hide)."""
        texts = value_texts(schema, value, prefix)
        if not texts:
            return value
        if findings is None:
            self.learn([t for _, t in texts])
        found = {}
        for path, text in texts:
            fs = findings.get(path) if findings is not None else self.known.get(text)
            fs = sorted((f for f in fs or () if 0 <= f.start < f.end <= len(text)),
                        key=lambda f: (f.start, f.end))
            if fs:
                found[path] = _apart(fs)
            # known either way: an answer holding the same text is not detected again
            self.known.setdefault(text, found.get(path, []))
        if not found:
            return value
        assert isinstance(value, Mapping)
        out = dict(value)
        for name, segs in _segments(schema, value):
            out[name] = [self._segment(s, f"{prefix}{name}/{i}", found) if isinstance(s, Mapping) else s
                         for i, s in enumerate(segs)]
        return out

    def _segment(self, s: Mapping[str, Any], path: str, found: Mapping[str, list[Finding]]) -> Any:
        if not found.get(path) and not found.get(path + WORDS):
            return s  # nothing personal: most segments, left as they are
        raw, words = s.get("text"), _words(s)
        text = raw if isinstance(raw, str) else ""
        out = dict(s)
        spans = align(text, words) if text and words is not None else None
        if text and found.get(path):
            shown, offsets = self._text(text, found[path])
            out["text"] = shown
            _keep(self.restorer.texts, shown, text)
            if words is not None and spans is not None:
                out["words"] = self._words(words, spans, text, shown, offsets, found[path])
        if words is not None and spans is None and found.get(path + WORDS):
            line = joined(words)
            shown_line, offsets = self._text(line, found[path + WORDS])
            out["words"] = self._words(words, _joined_spans(words), line, shown_line, offsets,
                                       found[path + WORDS])
        if out.get("text") != s.get("text") or out.get("words") != s.get("words"):
            shown_key = _key(s.get("start"), s.get("end"), out.get("text"), out.get("words"))
            _keep(self.restorer.segments, shown_key, (s.get("text"), s.get("words")))
        return out

    def _text(self, text: str, found: list[Finding]) -> tuple[str, OffsetMap | None]:
        self.hidden += len(found)
        if self.mode == "masked":
            return masked(text, found), None
        done = placeholders(text, found, numbering=self.numbering)
        for token, surface in done.legend.items():
            self.restorer.legend.setdefault(token, surface)
        return done.text, done.offsets

    def _words(self, words: Sequence[Mapping[str, Any]], spans: list[tuple[int, int]], text: str,
               shown: str, offsets: OffsetMap | None, found: list[Finding]) -> list[Any]:
        if offsets is None:  # masked: every word keeps its place and length
            return [{**w, "word": w["word"].replace(text[a:b], shown[a:b], 1)}
                    for w, (a, b) in zip(words, spans, strict=True)]
        out: list[Any] = []
        for group in _groups(spans, found):
            first, last = group[0], group[-1]
            hit = any(f.start < spans[k][1] and spans[k][0] < f.end for k in group for f in found)
            if not hit:
                out.append(words[first])
                continue
            a = min(spans[first][0], *(f.start for f in found if f.start < spans[last][1]
                                       and spans[first][0] < f.end))
            b = max(spans[last][1], *(f.end for f in found if f.start < spans[last][1]
                                      and spans[first][0] < f.end))
            word = words[first]["word"]
            lead = word[:len(word) - len(word.lstrip())]
            merged = {**words[first], "start": words[first].get("start"), "end": words[last].get("end"),
                      "word": lead + shown[offsets.to_redacted(a, "start"):offsets.to_redacted(b, "end")]}
            _keep(self.restorer.words, (merged["start"], merged["end"], merged["word"]),
                  [dict(words[k]) for k in group])
            out.append(merged)
        return out


def _groups(spans: list[tuple[int, int]], found: list[Finding]) -> list[list[int]]:
    """Runs of word indices: a word alone, or the consecutive words one finding (or a chain of
    findings sharing words) touches."""
    groups: list[list[int]] = []
    reach = -1  # the end of the findings touching the current group
    for k, (a, b) in enumerate(spans):
        touching = [f for f in found if f.start < b and a < f.end]
        if groups and touching and a < reach:
            groups[-1].append(k)
        else:
            groups.append([k])
            reach = -1
        if touching:
            reach = max(reach, *(f.end for f in touching))
    return groups


def _joined_spans(words: Sequence[Mapping[str, Any]]) -> list[tuple[int, int]]:
    spans = []
    at = 0
    for w in words:
        n = len(w["word"].strip())
        spans.append((at, at + n))
        at += n + 1
    return spans


def _apart(found: Sequence[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for f in found:
        if not kept or f.start >= kept[-1].end:
            kept.append(f)
    return kept
