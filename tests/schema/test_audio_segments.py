"""The audio_segments label type: canonical values, refusals naming the segment and field, and
per-item consensus and agreement with known answers (a 10-second file unless said)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.errors import Invalid
from labelloop.schema import AudioInfo, ValueProblem, parse_schema
from labelloop.schema.types.audio import segments as audio_segments
from labelloop.schema.types.audio.segments import interval_iou, weighted_median

SCHEMA = parse_schema({
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [
        {"name": "turns", "type": "audio_segments", "target": "clip",
         "labels": ["speech", "music", {"value": "spk_a", "label": "Speaker A", "key": "a"}],
         "transcript": True,
         "attributes": [{"name": "emotion", "type": "choice", "options": ["calm", "angry"]},
                        {"name": "note", "type": "text", "required": False}]},
        {"name": "events", "type": "audio_segments", "target": "clip", "labels": ["dog", "car"],
         "allow_overlap": True, "required": False, "max_segments": 3},
        {"name": "language", "type": "choice", "options": ["en", "fr"], "required": False},
        {"name": "summary", "type": "text", "required": False},
    ],
})
AUDIO = AudioInfo(duration=10.0, channels=1, sample_rate=16000)
CALM = {"emotion": "calm"}


def check(question: str, value: Any, audio: AudioInfo | None = AUDIO) -> Any:
    q = SCHEMA.question(question)
    return q.kind.validate(q.spec, value, audio)


def seg(start: float, end: float, label: str = "speech", text: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"start": start, "end": end, "label": label, "text": text, "words": None, **extra}


def refused(question: str, value: Any, audio: AudioInfo | None = AUDIO) -> ValueProblem:
    with pytest.raises(ValueProblem) as e:
        check(question, value, audio)
    return e.value


def test_valid_values_come_back_sorted_and_rounded_to_the_millisecond() -> None:
    words = [{"start": 2.0, "end": 2.4, "word": "hello"}, {"start": 2.5, "end": 3.0, "word": "there"}]
    value = [
        {"start": 5, "end": 9.99951, "label": "music", "attributes": CALM},
        {"start": 2.00049, "end": 3.0, "label": "spk_a", "text": "hello there", "words": words,
         "attributes": {"emotion": "angry", "note": "loud"}},
    ]
    assert check("turns", value) == [
        {"start": 2.0, "end": 3.0, "label": "spk_a", "text": "hello there", "words": words,
         "attributes": {"emotion": "angry", "note": "loud"}},
        {"start": 5.0, "end": 10.0, "label": "music", "text": None, "words": None, "attributes": CALM},
    ]
    assert check("turns", []) == []
    # A decoder's padding: 10 ms past the probed end is still on the file; unknown duration: unchecked.
    assert check("events", [{"start": 0, "end": 10.01, "label": "dog"}])[0]["end"] == 10.01
    assert check("events", [{"start": 0, "end": 500, "label": "dog"}], None)[0]["end"] == 500.0


def test_overlaps_are_refused_unless_the_question_allows_them() -> None:
    e = refused("turns", [seg(0, 5, attributes=CALM), seg(4, 6, attributes=CALM)])
    assert e.path == "[1].start" and "overlaps segment [0]" in e.message
    # Touching is not overlapping.
    assert len(check("turns", [seg(0, 5, attributes=CALM), seg(5, 6, attributes=CALM)])) == 2
    assert len(check("events", [seg(0, 5, "dog"), seg(1, 2, "car")])) == 2


@pytest.mark.parametrize(("value", "path", "words"), [
    ("not a list", "", "list of segments"),
    ([seg(0, 1)] * 4, "", "at most 3"),
    ([5], "[0]", "a segment is"),
    ([{"start": 0, "end": 1}], "[0].label", "missing 'label'"),
    ([{**seg(0, 1, "dog"), "speaker": "x"}], "[0]", "unknown key 'speaker'"),
    ([seg(0, 1, "dog"), seg(-0.5, 1, "dog")], "[1].start", "before the beginning"),
    ([seg(2, 2, "dog")], "[0].end", "must be after start"),
    ([seg(2, 2.0004, "dog")], "[0].end", "to the millisecond"),
    ([seg(0, 10.5, "dog")], "[0].end", "past the end of the audio (10.000 s)"),
    ([seg(0, "1", "dog")], "[0].end", "expected a number"),
    ([seg(0, float("nan"), "dog")], "[0].end", "finite"),
    ([seg(0, 1, "cat")], "[0].label", "'cat' is not a label (labels: dog, car)"),
    ([seg(0, 1, "dog", "hi")], "[0].text", "takes no transcript"),
])
def test_bad_values_name_the_segment_and_field(value: Any, path: str, words: str) -> None:
    e = refused("events", value)
    assert e.path == path and words in e.message, (e.path, e.message)


@pytest.mark.parametrize(("segment", "path", "words"), [
    (seg(1, 2, text=5, attributes=CALM), "[0].text", "expected a string"),
    ({**seg(1, 2, "speech", "hi", attributes=CALM), "words": "hi"}, "[0].words", "list of words"),
    ({**seg(1, 2, "speech", "a b", attributes=CALM), "words": [{"start": 1, "end": 1.5}]}, "[0].words[0]", "a word is"),
    ({**seg(1, 2, "speech", "a b", attributes=CALM), "words": [{"start": 1, "end": 2.5, "word": "a"}]},
     "[0].words[0].end", "inside its segment"),
    ({**seg(1, 2, "speech", "a b", attributes=CALM), "words": [{"start": 0.5, "end": 1.5, "word": "a"}]},
     "[0].words[0].start", "inside its segment"),
    ({**seg(1, 2, "speech", "a b", attributes=CALM), "words": [{"start": 1.5, "end": 1.2, "word": "a"}]},
     "[0].words[0].start", "start <= end"),
    ({**seg(1, 2, "speech", "a b", attributes=CALM),
      "words": [{"start": 1.5, "end": 1.6, "word": "a"}, {"start": 1.2, "end": 1.3, "word": "b"}]},
     "[0].words[1].start", "time order"),
    ({**seg(1, 2, "speech", "a", attributes=CALM), "words": [{"start": 1, "end": 1.2, "word": " "}]},
     "[0].words[0].word", "non-empty"),
    (seg(1, 2), "[0].attributes.emotion", "required"),
    (seg(1, 2, attributes={"emotion": "sad"}), "[0].attributes.emotion", "sad"),
    (seg(1, 2, attributes={**CALM, "age": 3}), "[0].attributes.age", "no attribute 'age'"),
])
def test_transcripts_words_and_attributes_are_checked(segment: Any, path: str, words: str) -> None:
    e = refused("turns", [segment])
    assert e.path == path and words in e.message, (e.path, e.message)


def test_an_answer_names_the_question_segment_and_field() -> None:
    with pytest.raises(Invalid) as e:
        SCHEMA.validate_answer({"turns": [seg(0, 11, attributes=CALM)], "language": "en"}, {"clip": AUDIO})
    assert [p.field for p in e.value.problems] == ["turns[0].end"]
    # Per-file choices and free text sit beside the segments.
    answer = SCHEMA.validate_answer({"turns": [], "language": "fr", "summary": "quiet"}, {"clip": AUDIO})
    assert answer == {"turns": [], "language": "fr", "summary": "quiet"}


def test_the_question_needs_an_audio_target() -> None:
    with pytest.raises(Invalid) as e:
        parse_schema({"fields": [{"name": "t"}], "questions": [
            {"name": "s", "type": "audio_segments", "target": "t", "labels": ["a"]}]})
    assert "needs audio" in e.value.problems[0].message


def test_interval_iou_and_weighted_median() -> None:
    import numpy as np

    iou = interval_iou(np.array([[0.0, 2.0], [5.0, 6.0]]), np.array([[1.0, 3.0], [7.0, 8.0]]))
    assert iou.tolist() == [[pytest.approx(1 / 3), 0.0], [0.0, 0.0]]
    assert weighted_median([1.0, 2.0, 9.0], [1, 1, 1]) == 2.0
    assert weighted_median([1.0, 2.0], [1, 1]) == 1.5
    assert weighted_median([1.0, 2.0, 9.0], [1, 1, 5]) == 9.0


def aggregate(values: list[Any], weights: list[float] | None = None, question: str = "turns") -> Any:
    q = SCHEMA.question(question)
    return q.kind.aggregate(q.spec, values, weights)


def test_segments_marked_by_a_majority_are_kept_with_median_bounds_and_voted_labels() -> None:
    a = [seg(0.0, 2.0, "speech", "hello there", attributes=CALM), seg(5.0, 6.0, "music", attributes=CALM)]
    b = [seg(0.2, 2.2, "speech", "hello there", attributes=CALM)]
    c = [seg(0.1, 1.9, "spk_a", "hello dear", attributes={"emotion": "angry"})]
    out = aggregate([a, b, c])
    # Music was marked by one of three: dropped. The speech: medians, majority label and text.
    assert out.value == [seg(0.1, 2.0, "speech", "hello there", attributes=CALM)]
    assert out.confidence == pytest.approx(((1.0) + (2 / 3)) / 2)
    # A trusted annotator outweighs the other two.
    out = aggregate([a, b, c], [1, 1, 5])
    assert out.value == [seg(0.1, 1.9, "spk_a", "hello dear", attributes={"emotion": "angry"})]


def test_the_transcript_is_the_most_agreed_then_the_longest_and_keeps_its_words() -> None:
    words = [{"start": 0.0, "end": 0.5, "word": "hello"}, {"start": 0.6, "end": 2.5, "word": "world"}]
    a = [{**seg(0.0, 2.5, "speech", "hello world", attributes=CALM), "words": words}]
    b = [seg(0.0, 2.0, "speech", "hello", attributes=CALM)]
    out = aggregate([a, b])
    # Two texts, one voter each: the longer wins; its words are clipped to the fused end (2.25).
    assert out.value[0]["text"] == "hello world"
    assert out.value[0]["end"] == 2.25
    assert out.value[0]["words"][-1] == {"start": 0.6, "end": 2.25, "word": "world"}


def test_the_transcript_choice_is_a_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio_segments, "TRANSCRIPT_CHOICE", lambda texts, weights: " | ".join(t or "" for t in texts))
    out = aggregate([[seg(0, 1, "speech", "a", attributes=CALM)], [seg(0, 1, "speech", "b", attributes=CALM)]])
    assert out.value[0]["text"] == "a | b"


def test_consensus_without_overlap_cuts_at_the_earlier_end() -> None:
    a = [seg(0, 4, "dog"), seg(3, 8, "car")]
    allowed = aggregate([a, a], question="events")
    assert [(s["start"], s["end"]) for s in allowed.value] == [(0.0, 4.0), (3.0, 8.0)]
    q = SCHEMA.question("turns")
    settled = q.kind._settle(q.spec, [seg(0, 4, attributes=CALM), seg(3, 8, attributes=CALM), seg(1, 2)])  # type: ignore[attr-defined]
    assert [(s["start"], s["end"]) for s in settled] == [(0, 4), (4, 8)]


def test_empty_answers_agree_and_zero_weight_settles_nothing() -> None:
    assert aggregate([[], []]).value == [] and aggregate([[], []]).confidence == 1.0
    assert aggregate([[seg(0, 1)]], [0.0]).value is None


def test_agreement_is_segment_f1_at_iou_half() -> None:
    q = SCHEMA.question("events")
    a = [seg(0, 2, "dog"), seg(5, 6, "car")]
    b = [seg(0.5, 2, "dog"), seg(5, 6, "dog")]  # the first matches (IoU 0.75), the second's class differs
    assert q.kind.agreement(q.spec, [[a, b]]) == pytest.approx(0.5)
    assert q.kind.agreement(q.spec, [[a, a], [[], []]]) == 1.0
    assert q.kind.agreement(q.spec, [[a]]) is None
    assert q.kind.matches_gold(q.spec, b[:1], a[:1]) and not q.kind.matches_gold(q.spec, b, a)
    assert q.kind.export_cell(q.spec, [seg(0, 1, "dog")]) == (
        '[{"start":0,"end":1,"label":"dog","text":null,"words":null}]')


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 9.9), st.floats(0.001, 5), st.sampled_from(["dog", "car"])),
                max_size=3), st.integers(1, 4))
def test_identical_answers_settle_on_themselves(raw: list[tuple[float, float, str]], n: int) -> None:
    value = check("events", [{"start": s, "end": min(s + d, 10.0), "label": lab} for s, d, lab in raw
                             if round(s, 3) < round(min(s + d, 10.0), 3)])
    out = aggregate([value] * n, question="events")
    assert out.value == value and out.confidence == 1.0
    # Canonical values validate to themselves.
    assert check("events", value) == value
