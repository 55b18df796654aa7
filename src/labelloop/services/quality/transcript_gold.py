"""A typed transcript on a gold clip: right when its word error rate against the gold transcript is
at most the project's `gold_max_wer` (docs/quality.md, "Transcripts on the platform").

A typed transcript is the answer to a `text` question of a schema with an audio field (one transcript
per file: `transcript_consensus.is_transcript`). Exact equality would fail "Hello, there." against
"hello there", so both are normalised as the library normalises for every WER (lower case,
punctuation removed, split at white space, hyphens and slashes: `labelloop.quality.texts`), and

    WER = (S + D + I) / N

with S, D, I the substitutions, deletions and insertions of the word-level Levenshtein alignment of
the answer to the gold transcript and N the gold's number of words (Levenshtein 1966; the NIST
definition). The answer passes when WER <= `gold_max_wer`: at 0 (the default) the same words in the
same order, whatever the case and punctuation; at 0.1 one word wrong in ten. A gold transcript with no
word ("nothing was said") passes only an answer with no word either. A value that is not a string on
either side (an unanswered optional question) is compared as it is.

`audio_segments` answers keep their label type's rule on gold (segments matched at IoU 0.5, same
labels: docs/audio.md); their words are scored by WER in the annotators report, not here.
"""

from __future__ import annotations

from typing import Any

from labelloop.quality.texts.alignment import edit_distances
from labelloop.quality.texts.weighted import encode_few
from labelloop.schema import LabelSchema
from labelloop.services.quality.transcript_consensus import is_transcript

# Slack for the product max_wer * N: 0.29 * 100 is 28.999999999999996 in floating point.
_EPS = 1e-9


def typed_transcripts(schema: LabelSchema | None) -> frozenset[str]:
    """The `text` questions of the schema that hold a transcript of its audio."""
    if schema is None:
        return frozenset()
    return frozenset(q.name for q in schema.questions if q.kind.name == "text" and is_transcript(schema, q))


def word_errors(answer: str, gold: str) -> tuple[int, int]:
    """(S + D + I, N): the word edit distance of `answer` to `gold` after normalisation, and the
    number of words of `gold`. In plain Python and one small alignment: this runs in `submit`."""
    data = encode_few([0, 1], [answer, gold])
    distance = edit_distances(data.words[:1], data.length[:1], data.words[1:], data.length[1:])
    return int(distance[0]), int(data.length[1])


def transcript_matches(answer: Any, gold: Any, max_wer: float) -> bool:
    """Whether a typed transcript passes against the gold one (module docstring)."""
    if not isinstance(answer, str) or not isinstance(gold, str):
        return bool(answer == gold)
    errors, words = word_errors(answer, gold)
    return errors <= max_wer * words + _EPS
