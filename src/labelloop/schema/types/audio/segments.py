"""Audio segments: stretches of an audio field's timeline, each with a class and, when the question
asks for it, its transcript (with word timings when a model gave them) and attributes.

A value is a list of `{"start", "end", "label", "text", "words", "attributes"}` in seconds from the
start of the file (docs/audio.md, "Segments"), stored sorted by (start, end) and rounded to the
millisecond. It is checked against the probed duration when the caller knows it (`AudioInfo`).

Consensus of one item (`aggregate`): segments are matched across annotators by temporal IoU (the
length of the two intervals' intersection over that of their union) with the shapes' clustering
(`shape_match.cluster`: Hungarian assignment, one segment per annotator per cluster, IoU at least
0.5). A cluster is kept when its annotators carry more than half of the total weight; its start
and end are the weighted medians of its members' (robust to one annotator's sloppy boundary), its
label and each attribute a weighted vote, its transcript `TRANSCRIPT_CHOICE(texts, weights)`
(a word-level weighted vote, ROVER: `labelloop.quality.texts.weighted`). `clusters` and `fuse` are
the two halves of `aggregate`, for callers that choose the transcripts of many clusters at once
(the platform's project-wide aggregator: services/quality/transcript_consensus.py). Confidence is
the mean over clusters of the winning side's share (keep or drop), 1 when nobody marked anything.
Agreement: the mean over items and annotator pairs of F1 at IoU 0.5 between segments of the same
class (the detection F1 of PASCAL VOC, Everingham et al. 2010, on a time axis).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from labelloop.schema.label_type import (
    Aggregate,
    AudioInfo,
    LabelType,
    Target,
    ValueProblem,
    pairwise_mean,
    register,
    weights_or_ones,
)
from labelloop.schema.types.shapes import shape_match
from labelloop.schema.types.shapes.geometry import Floats
from labelloop.schema.types.shapes.objects import ObjectsQuestion, check_attributes, json_kind, number

THRESHOLD = 0.5  # temporal IoU at which two segments are the same one
# Decoders pad the last frame (AAC's priming, MP3's last granule): an end this far past the probed
# duration is still on the file.
END_SLACK = 0.01
MAX_TEXT = 100_000
MAX_WORDS = 50_000
SEGMENT_KEYS = ("start", "end", "label", "text", "words", "attributes")


class AudioSegmentsQuestion(ObjectsQuestion):
    object_noun: ClassVar[str] = "segment"
    type: Literal["audio_segments"] = "audio_segments"
    transcript: bool = False  # each segment holds its text (and, from a model, word timings)
    allow_overlap: bool = False  # speaker turns talking over each other
    max_segments: int = Field(1000, ge=1, le=100_000)


def seconds(raw: Any, path: str) -> float:
    """A finite number of seconds, at most millisecond precision kept."""
    return float(round(float(number(raw, path)), 3))


def rover_choice(texts: Sequence[str | None], weights: Sequence[float]) -> str | None:
    """The word-level weighted vote of `labelloop.quality.texts.weighted.rover_choice`."""
    # imported when first voted: it brings pandas, which reading a schema does not need
    from labelloop.quality.texts.weighted import rover_choice as vote

    return vote(texts, weights)


# How a kept segment's transcript is chosen from its members' texts and weights (most trusted
# first): a word-level weighted vote (ROVER, `labelloop.quality.texts.weighted.rover_choice`), so
# two transcripts that differ by one word still agree on the others. A hook: the platform does not
# call it one cluster at a time, it votes every cluster of a project (or of an item) in one batch
# from `clusters` and `fuse` (services/quality/transcript_consensus.py).
TRANSCRIPT_CHOICE: Callable[[Sequence[str | None], Sequence[float]], str | None] = rover_choice


@dataclass(frozen=True)
class SegmentCluster:
    """Segments of one item matched across annotators (one per annotator), most trusted first."""

    segments: list[dict[str, Any]]
    answers: list[int]  # the index in `values` of each segment's answer
    weights: list[float]
    share: float  # its annotators' share of the item's total weight

    @property
    def kept(self) -> bool:
        return self.share > 0.5

    @property
    def texts(self) -> list[str | None]:
        return [s.get("text") for s in self.segments]

    def bounds(self) -> tuple[float, float]:
        """The weighted medians of its members' starts and ends."""
        w = self.weights if sum(self.weights) > 0 else [1.0] * len(self.weights)
        return (weighted_median([s["start"] for s in self.segments], w),
                weighted_median([s["end"] for s in self.segments], w))


def interval_iou(a: Floats, b: Floats) -> Floats:
    """(len(a), len(b)) IoU of intervals given as rows [start, end]."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    inter = np.clip(np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]),
                    0.0, None)
    union = (a[:, None, 1] - a[:, None, 0]) + (b[None, :, 1] - b[None, :, 0]) - inter
    out: Floats = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return out


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    """The value with half the weight on each side (the midpoint when a value splits it exactly)."""
    order = np.argsort(values, kind="stable")
    v = np.asarray(values, dtype=np.float64)[order]
    cum = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
    half = cum[-1] / 2.0
    i = int(np.searchsorted(cum, half))
    if np.isclose(cum[i], half) and i + 1 < len(v):
        return float((v[i] + v[i + 1]) / 2.0)
    return float(v[i])


def _bounds(segments: Sequence[dict[str, Any]]) -> Floats:
    return np.array([[s["start"], s["end"]] for s in segments], dtype=np.float64).reshape(-1, 2)


def _vote(values: Sequence[Any], weights: Sequence[float], rank: Callable[[Any], int] | None = None) -> Any:
    """The value with the most weight; ties to the lowest `rank`, else to the value given first."""
    support: dict[str, list[Any]] = {}
    for v, wi in zip(values, weights, strict=True):
        entry = support.setdefault(json.dumps(v, sort_keys=True), [0.0, v, len(support)])
        entry[0] += wi
    return max(support.values(), key=lambda e: (e[0], -(rank(e[1]) if rank else e[2])))[1]


def _clip_words(words: list[dict[str, Any]] | None, start: float, end: float) -> list[dict[str, Any]] | None:
    if words is None:
        return None
    return [{"start": min(max(w["start"], start), end), "end": max(min(w["end"], end), start),
             "word": w["word"]} for w in words]


class AudioSegments(LabelType[AudioSegmentsQuestion]):
    name = "audio_segments"
    question_model = AudioSegmentsQuestion
    target_kinds = frozenset({"audio"})
    target_required = True

    # -- validation -------------------------------------------------------------------------
    def validate(self, question: AudioSegmentsQuestion, value: Any, target: Target = None) -> Any:
        """The segments sorted by (start, end), each checked against the duration when known."""
        audio = target if isinstance(target, AudioInfo) else None
        if not isinstance(value, list):
            raise ValueProblem(f"expected a list of segments, got {json_kind(value)}")
        if len(value) > question.max_segments:
            raise ValueProblem(f"at most {question.max_segments} segments, got {len(value)}")
        checked = [(self._segment(question, s, audio, f"[{i}]"), i) for i, s in enumerate(value)]
        checked.sort(key=lambda pair: (pair[0]["start"], pair[0]["end"]))
        if not question.allow_overlap:
            for (before, i), (after, j) in pairwise(checked):
                if after["start"] < before["end"]:
                    raise ValueProblem(
                        f"overlaps segment [{i}] ({before['start']} to {before['end']} s); this "
                        "question does not allow overlapping segments", f"[{j}].start")
        return [segment for segment, _ in checked]

    def _segment(
        self, question: AudioSegmentsQuestion, raw: Any, audio: AudioInfo | None, at: str
    ) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ValueProblem(f'a segment is {{"start": s, "end": s, "label": ...}}, got {json_kind(raw)}',
                               at)
        for k in raw:
            if k not in SEGMENT_KEYS:
                raise ValueProblem(f"unknown key {k!r}; a segment has {', '.join(SEGMENT_KEYS)}", at)
        for k in ("start", "end", "label"):
            if k not in raw:
                raise ValueProblem(f"missing {k!r}", f"{at}.{k}")
        start, end = seconds(raw["start"], f"{at}.start"), seconds(raw["end"], f"{at}.end")
        if start < 0:
            raise ValueProblem(f"start = {start} s is before the beginning of the audio", f"{at}.start")
        if not start < end:
            raise ValueProblem(f"end = {end} s must be after start = {start} s (to the millisecond)",
                               f"{at}.end")
        if audio is not None and end > audio.duration + END_SLACK:
            raise ValueProblem(f"end = {end} s is past the end of the audio ({audio.duration:.3f} s)",
                               f"{at}.end")
        label = raw["label"]
        if not isinstance(label, str) or label not in question.values:
            raise ValueProblem(f"{label!r} is not a label (labels: {', '.join(question.values)})",
                               f"{at}.label")
        text, words = raw.get("text"), raw.get("words")
        if not question.transcript:
            for key, given in (("text", text), ("words", words)):
                if given is not None:
                    raise ValueProblem("this question takes no transcript (transcript: false)", f"{at}.{key}")
        elif text is not None and not isinstance(text, str):
            raise ValueProblem(f"expected a string, got {json_kind(text)}", f"{at}.text")
        elif text is not None and len(text) > MAX_TEXT:
            raise ValueProblem(f"at most {MAX_TEXT:,} characters, got {len(text):,}", f"{at}.text")
        checked = None if words is None else self._words(words, start, end, f"{at}.words")
        out: dict[str, Any] = {"start": start, "end": end, "label": label, "text": text, "words": checked}
        attributes = check_attributes(question.attributes, raw.get("attributes"), f"{at}.attributes")
        if attributes:
            out["attributes"] = attributes
        return out

    def _words(self, raw: Any, start: float, end: float, at: str) -> list[dict[str, Any]]:
        if not isinstance(raw, list):
            raise ValueProblem(f"expected a list of words, got {json_kind(raw)}", at)
        if len(raw) > MAX_WORDS:
            raise ValueProblem(f"at most {MAX_WORDS:,} words, got {len(raw):,}", at)
        out: list[dict[str, Any]] = []
        for i, w in enumerate(raw):
            here = f"{at}[{i}]"
            if not isinstance(w, dict) or set(w) != {"start", "end", "word"}:
                raise ValueProblem('a word is {"start": s, "end": s, "word": "..."}', here)
            ws, we = seconds(w["start"], f"{here}.start"), seconds(w["end"], f"{here}.end")
            if not isinstance(w["word"], str) or not w["word"].strip():
                raise ValueProblem("expected a non-empty string", f"{here}.word")
            if not start <= ws <= we <= end:
                field = "start" if not start <= ws <= we else "end"
                raise ValueProblem(f"the word ({ws} to {we} s) must lie inside its segment "
                                   f"({start} to {end} s), start <= end", f"{here}.{field}")
            if out and ws < out[-1]["start"]:
                raise ValueProblem(f"words must be in time order: starts before word [{i - 1}] "
                                   f"({out[-1]['start']} s)", f"{here}.start")
            out.append({"start": ws, "end": we, "word": w["word"]})
        return out

    # -- consensus and agreement ------------------------------------------------------------
    def aggregate(
        self, question: AudioSegmentsQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        found = self.clusters(question, values, weights)
        if found is None:
            return Aggregate(None, 0.0)
        texts = [TRANSCRIPT_CHOICE(c.texts, c.weights) if c.kept and question.transcript else None
                 for c in found]
        return self.fuse(question, found, texts)

    def clusters(
        self, question: AudioSegmentsQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> list[SegmentCluster] | None:
        """The item's segments matched across annotators (None when the weights sum to zero)."""
        w = weights_or_ones(values, weights)
        order = sorted(range(len(values)), key=lambda a: -w[a])  # stable: ties keep answer order
        total = sum(w[a] for a in order)
        if total <= 0:
            return None
        segments = [s for v in values for s in v]
        if not segments:
            return []
        owners = [a for a, v in enumerate(values) for _ in v]
        bounds = _bounds(segments)

        def sims(rows: Any, cols: Any) -> Floats:
            return interval_iou(bounds[rows], bounds[cols])

        out = []
        for members in shape_match.cluster(owners, order, sims, THRESHOLD):
            # Most trusted first, so ties in the votes go to them.
            members = sorted(members, key=lambda k: order.index(owners[k]))
            out.append(SegmentCluster([segments[k] for k in members], [owners[k] for k in members],
                                      [w[owners[k]] for k in members],
                                      sum(w[owners[k]] for k in members) / total))
        return out

    def fuse(
        self, question: AudioSegmentsQuestion, clusters: Sequence[SegmentCluster], texts: Sequence[str | None]
    ) -> Aggregate:
        """The consensus of an item's clusters, `texts[k]` the transcript of cluster k (read for the
        kept ones); confidence the mean over clusters of the winning side's share (keep or drop)."""
        if not clusters:
            return Aggregate([], 1.0)
        kept: list[dict[str, Any]] = []
        for c, text in zip(clusters, texts, strict=True):
            if c.kept:
                fused = self._fuse(question, c.segments, c.weights, text)
                if fused is not None:
                    kept.append(fused)
        sure = sum(max(c.share, 1.0 - c.share) for c in clusters)
        return Aggregate(self._settle(question, kept), sure / len(clusters))

    def _fuse(
        self, question: AudioSegmentsQuestion, members: list[dict[str, Any]], weights: list[float],
        text: str | None,
    ) -> dict[str, Any] | None:
        if sum(weights) <= 0:
            weights = [1.0] * len(members)
        start = round(weighted_median([m["start"] for m in members], weights), 3)
        end = round(weighted_median([m["end"] for m in members], weights), 3)
        if not start < end:
            return None
        rank = {v: i for i, v in enumerate(question.values)}
        label = _vote([m["label"] for m in members], weights, lambda v: rank.get(v, len(rank)))
        text = text if question.transcript else None
        # Word timings come with a member whose transcript the consensus is (white space aside).
        same = None if text is None else " ".join(text.split())
        source = next((m for m in members if m.get("words") and isinstance(m.get("text"), str)
                       and " ".join(m["text"].split()) == same), None)
        out: dict[str, Any] = {"start": start, "end": end, "label": label, "text": text,
                               "words": _clip_words(source["words"], start, end) if source else None}
        attributes: dict[str, Any] = {}
        for spec in question.attributes:
            value = _vote([m.get("attributes", {}).get(spec.name) for m in members], weights)
            if value is not None:
                attributes[spec.name] = value
        if attributes:
            out["attributes"] = attributes
        return out

    def _settle(self, question: AudioSegmentsQuestion, kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Kept segments in time order; without `allow_overlap`, each starts where the previous ends."""
        kept.sort(key=lambda s: (s["start"], s["end"]))
        if question.allow_overlap:
            return kept
        out: list[dict[str, Any]] = []
        for s in kept:
            if out and s["start"] < out[-1]["end"]:
                if s["end"] <= out[-1]["end"]:
                    continue  # inside the previous one: nothing of it is left
                s = {**s, "start": out[-1]["end"], "words": _clip_words(s["words"], out[-1]["end"], s["end"])}
            out.append(s)
        return out

    def _f1(self, a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> float:
        s = interval_iou(_bounds(a), _bounds(b))
        la = np.array([x["label"] for x in a], dtype=object)
        lb = np.array([x["label"] for x in b], dtype=object)
        same = (la[:, None] == lb[None, :]).astype(bool).reshape(s.shape)
        return shape_match.f1(np.where(same, s, 0.0), THRESHOLD)

    def agreement(
        self, question: AudioSegmentsQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """Mean over items of pairwise F1 at IoU 0.5 between segments of the same class (two
        empty answers agree fully)."""
        return pairwise_mean(values_per_item, self._f1)

    def matches_gold(self, question: AudioSegmentsQuestion, value: Any, gold: Any) -> bool:
        """Every reference segment found (same class, IoU at least 0.5) and nothing extra."""
        if not isinstance(value, list) or not isinstance(gold, list):
            return bool(value == gold)
        return self._f1(value, gold) >= 1.0

    def export_cell(self, question: AudioSegmentsQuestion, value: Any) -> str | None:
        """The segments as compact JSON."""
        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


register(AudioSegments())
