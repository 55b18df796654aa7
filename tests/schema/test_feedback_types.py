"""The language-model feedback types (docs/feedback.md): preference, ranking, criteria, rewrite and
response spans: their questions, validation against the item's candidates, per-item consensus,
agreement and export cells, with hand-made cases of known answers and hostile values."""

from __future__ import annotations

import difflib
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau

from labelloop.errors import Invalid
from labelloop.schema import Responses, ValueProblem, check_field_value, parse_schema
from labelloop.schema.fields import blind
from labelloop.schema.types.feedback.ranking import kendall_tau
from labelloop.schema.types.feedback.rewrite import DIFF_BUDGET, changed, char_diff

FIELDS = [{"name": "prompt"}, {"name": "responses", "type": "responses"}]
SCHEMA = parse_schema({
    "fields": FIELDS,
    "questions": [
        {"name": "pref", "type": "preference", "target": "responses", "strength": True, "reason": "optional"},
        {"name": "plain", "type": "preference", "target": "responses", "ties": False},
        {"name": "why", "type": "preference", "target": "responses", "reason": "required"},
        {"name": "rank", "type": "ranking", "target": "responses"},
        {"name": "top", "type": "ranking", "target": "responses", "partial": True},
        {"name": "crit", "type": "criteria", "target": "responses",
         "criteria": [{"name": "helpful", "label": "Helpful"}, {"name": "correct"}], "labels": {1: "bad", 5: "great"}},
        {"name": "overall", "type": "criteria", "target": "responses", "criteria": [{"name": "helpful"}],
         "per_response": False, "min": 0, "max": 10},
        {"name": "rw", "type": "rewrite", "target": "responses"},
        {"name": "rw0", "type": "rewrite", "target": "responses", "min_change": 0},
        {"name": "flags", "type": "response_spans", "target": "responses", "labels": ["hallucination", "unsafe"]},
    ],
})
CANDIDATES = Responses(("r1", "r2", "r3"), ("Paris is in Germany.", "Paris is in France.", "Paris."))


def q(name: str) -> Any:
    return SCHEMA.question(name)


def check(name: str, value: Any, target: Any = CANDIDATES) -> Any:
    question = q(name)
    return question.kind.validate(question.spec, value, target)


def refused(name: str, value: Any, target: Any = CANDIDATES) -> ValueProblem:
    with pytest.raises(ValueProblem) as e:
        check(name, value, target)
    return e.value


# --- the field ----------------------------------------------------------------------------------

def test_a_responses_value_is_checked_naming_the_candidate_and_key() -> None:
    good = [{"id": "r1", "content": "a", "model": "m", "meta": {"t": 1}}, {"id": "b.2:x-y_z", "content": ""}]
    assert check_field_value("responses", good) is None
    cases = [
        ("nope", "expected a list"),
        ([], "1 to 16"),
        ([{"id": f"r{i}", "content": ""} for i in range(17)], "1 to 16"),
        (["text"], "candidate [0] must be an object"),
        ([{"id": "r1"}], "candidate [0] key 'content'"),
        ([{"id": "r1", "content": "a"}, {"id": "r1", "content": "b"}], "candidate [1] key 'id' repeats 'r1'"),
        ([{"id": "has space", "content": "a"}], "candidate [0] key 'id'"),
        ([{"id": "x" * 65, "content": "a"}], "candidate [0] key 'id'"),
        ([{"id": "r1", "content": "a", "model": 3}], "candidate [0] key 'model'"),
        ([{"id": "r1", "content": "a", "meta": []}], "candidate [0] key 'meta'"),
        ([{"id": "r1", "content": "a", "score": 1}], "candidate [0] has the unknown key 'score'"),
        ([{"id": "r1", "content": "x" * 200_001}], "candidate [0] key 'content' is longer"),
    ]
    for value, words in cases:
        problem = check_field_value("responses", value)
        assert problem is not None and words in problem, (value, problem)


def test_blind_data_keeps_only_ids_and_contents() -> None:
    data = {"prompt": "p", "responses": [{"id": "r1", "content": "a", "model": "gpt", "meta": {"model": "gpt"}}]}
    assert blind(SCHEMA.fields, data) == {"prompt": "p", "responses": [{"id": "r1", "content": "a"}]}
    assert data["responses"][0]["model"] == "gpt"  # the stored item is untouched


# --- questions ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "words"), [
    ({"name": "p", "type": "preference"}, "needs a 'target'"),
    ({"name": "p", "type": "preference", "target": "prompt"}, "needs responses"),
    ({"name": "p", "type": "ranking", "target": "responses", "partial": "sometimes"}, "valid boolean"),
    ({"name": "p", "type": "preference", "target": "responses", "reason": "maybe"}, "'none', 'optional' or 'required'"),
    ({"name": "c", "type": "criteria", "target": "responses", "criteria": []}, "at least 1"),
    ({"name": "c", "type": "criteria", "target": "responses", "criteria": [{"name": "a"}, {"name": "a"}]}, "listed twice"),
    ({"name": "c", "type": "criteria", "target": "responses", "criteria": [{"name": "a"}], "min": 5, "max": 5}, "max must be larger"),
    ({"name": "c", "type": "criteria", "target": "responses", "criteria": [{"name": "a", "weight": 2}]}, "unknown key 'weight'"),
    ({"name": "r", "type": "rewrite", "target": "responses", "min_change": -1}, "greater than or equal to 0"),
    ({"name": "s", "type": "response_spans", "target": "responses", "labels": ["A", "A"]}, "listed twice"),
])
def test_bad_feedback_questions_are_refused(question: dict[str, Any], words: str) -> None:
    with pytest.raises(Invalid) as e:
        parse_schema({"fields": FIELDS, "questions": [question]})
    assert any(words in p["message"] for p in e.value.detail), e.value.detail


def test_the_stored_document_has_every_option() -> None:
    by_name = {d["name"]: d for d in SCHEMA.document["questions"]}
    assert by_name["pref"] == {"name": "pref", "type": "preference", "required": True, "target": "responses",
                               "ties": True, "strength": True, "reason": "optional"}
    assert by_name["crit"]["labels"] == {"1": "bad", "5": "great"} and by_name["crit"]["per_response"] is True
    assert parse_schema(SCHEMA.document).document == SCHEMA.document


# --- preference ---------------------------------------------------------------------------------

def test_a_preference_comes_back_whole() -> None:
    assert check("pref", {"left": "r2", "right": "r1", "winner": "left", "strength": 3, "reason": "  facts "}) == {
        "left": "r2", "right": "r1", "winner": "left", "strength": 3, "reason": "facts"}
    assert check("pref", {"left": "r1", "right": "r3", "winner": "tie", "strength": None, "reason": ""}) == {
        "left": "r1", "right": "r3", "winner": "tie", "strength": None, "reason": None}


@pytest.mark.parametrize(("name", "value", "path", "words"), [
    ("pref", ["r1", "r2"], "", "expected an object"),
    ("pref", {"left": "r1", "right": "r2"}, ".winner", "missing"),
    ("pref", {"left": "r1", "right": "r2", "winner": "left", "score": 1}, ".score", "unknown key"),
    ("pref", {"left": "r9", "right": "r2", "winner": "left"}, ".left", "not a candidate"),
    ("pref", {"left": "r1", "right": 2, "winner": "left"}, ".right", "as a string"),
    ("pref", {"left": "r1", "right": "r1", "winner": "left"}, ".right", "two different"),
    ("pref", {"left": "r1", "right": "r2", "winner": "r1"}, ".winner", "not a winner"),
    ("plain", {"left": "r1", "right": "r2", "winner": "tie"}, ".winner", "not a winner"),
    ("pref", {"left": "r1", "right": "r2", "winner": "left", "strength": 4}, ".strength", "1, 2 or 3"),
    ("pref", {"left": "r1", "right": "r2", "winner": "left", "strength": True}, ".strength", "1, 2 or 3"),
    ("pref", {"left": "r1", "right": "r2", "winner": "tie", "strength": 1}, ".strength", "a tie has no strength"),
    ("plain", {"left": "r1", "right": "r2", "winner": "left", "strength": 2}, ".strength", "does not ask"),
    ("plain", {"left": "r1", "right": "r2", "winner": "left", "reason": "x"}, ".reason", "does not ask"),
    ("why", {"left": "r1", "right": "r2", "winner": "left", "reason": "   "}, ".reason", "required"),
    ("pref", {"left": "r1", "right": "r2", "winner": "left", "reason": 5}, ".reason", "as a string"),
])
def test_hostile_preferences_name_the_path(name: str, value: Any, path: str, words: str) -> None:
    problem = refused(name, value)
    assert problem.path == path and words in problem.message, (problem.path, problem.message)


def test_without_the_candidates_ids_are_not_checked_against_them() -> None:
    assert check("plain", {"left": "x", "right": "y", "winner": "right"}, None)["right"] == "y"
    assert refused("plain", {"left": "x", "right": "x", "winner": "right"}, None).path == ".right"


def test_preference_consensus_is_the_weighted_majority_per_pair() -> None:
    pref = q("pref")
    votes = [{"left": "r1", "right": "r2", "winner": "left"},
             {"left": "r2", "right": "r1", "winner": "right"},  # the same choice, shown the other way
             {"left": "r1", "right": "r2", "winner": "tie"}]
    agg = pref.kind.aggregate(pref.spec, votes)
    assert agg.value == {"winner": "r1", "pairs": [{"left": "r1", "right": "r2", "winner": "left", "share": 2 / 3,
                                                   "left_votes": 2.0, "right_votes": 0.0, "tie_votes": 1.0}]}
    assert agg.confidence == pytest.approx(2 / 3)
    # A reliable annotator outweighs two unreliable ones.
    votes = [{"left": "r1", "right": "r2", "winner": "left"}, {"left": "r1", "right": "r2", "winner": "left"},
             {"left": "r2", "right": "r1", "winner": "left"}]
    agg = pref.kind.aggregate(pref.spec, votes, [0.2, 0.2, 0.9])
    assert agg.value["winner"] == "r2" and agg.value["pairs"][0]["winner"] == "right"
    assert agg.confidence == pytest.approx(0.9 / 1.3)
    # A split vote is a tie, and there is no winner.
    split = pref.kind.aggregate(pref.spec, votes[:1] + votes[2:])
    assert split.value["winner"] is None and split.value["pairs"][0]["winner"] == "tie"
    assert pref.kind.aggregate(pref.spec, votes, [0, 0, 0]).value is None


def test_preference_winner_over_several_pairs_is_the_one_winning_most() -> None:
    pref = q("pref")
    votes = [{"left": "r1", "right": "r2", "winner": "right"}, {"left": "r3", "right": "r2", "winner": "right"},
             {"left": "r1", "right": "r3", "winner": "left"}]
    agg = pref.kind.aggregate(pref.spec, votes)
    assert agg.value["winner"] == "r2" and len(agg.value["pairs"]) == 3 and agg.confidence == 1.0
    cycle = [*votes[:2], {"left": "r1", "right": "r3", "winner": "right"},
             {"left": "r1", "right": "r2", "winner": "left"}, {"left": "r1", "right": "r2", "winner": "left"}]
    # r1 beats r2 (2 to 1), r2 beats r3, r3 beats r1: one win each, no winner.
    assert pref.kind.aggregate(pref.spec, cycle).value["winner"] is None


def test_preference_agreement_compares_only_the_same_pair() -> None:
    pref = q("pref")
    a = {"left": "r1", "right": "r2", "winner": "left"}
    a_swapped = {"left": "r2", "right": "r1", "winner": "right"}
    b = {"left": "r1", "right": "r2", "winner": "right"}
    other = {"left": "r1", "right": "r3", "winner": "left"}
    assert pref.kind.agreement(pref.spec, [[a, a_swapped, b]]) == pytest.approx(1 / 3)
    assert pref.kind.agreement(pref.spec, [[a, other], [a, a_swapped]]) == 1.0  # the first item has no pair
    assert pref.kind.agreement(pref.spec, [[a, other]]) is None
    cell = pref.kind.export_cell(pref.spec, check("pref", a))
    assert cell == '{"left":"r1","right":"r2","winner":"left","strength":null,"reason":null}'


# --- ranking ------------------------------------------------------------------------------------

def test_a_ranking_is_a_permutation_of_the_candidates() -> None:
    assert check("rank", {"order": ["r3", "r1", "r2"]}) == {"order": ["r3", "r1", "r2"]}
    assert check("top", {"order": ["r2"]}) == {"order": ["r2"]}


@pytest.mark.parametrize(("name", "value", "path", "words"), [
    ("rank", {"order": ["r1", "r2"]}, ".order", "missing: r3"),
    ("rank", {"order": ["r1", "r2", "r3", "r1"]}, ".order[3]", "ranked twice"),
    ("top", {"order": ["r1", "r1"]}, ".order[1]", "ranked twice"),
    ("rank", {"order": ["r1", "r2", "r4"]}, ".order[2]", "not a candidate"),
    ("rank", {"order": []}, ".order", "non-empty list"),
    ("rank", {"order": "r1 > r2"}, ".order", "non-empty list"),
    ("rank", {"order": ["r1", None, "r2"]}, ".order[1]", "as a string"),
    ("rank", {"ranking": ["r1"]}, ".ranking", "unknown key"),
])
def test_hostile_rankings_name_the_path(name: str, value: Any, path: str, words: str) -> None:
    problem = refused(name, value)
    assert problem.path == path and words in problem.message, (problem.path, problem.message)


@given(st.permutations(["a", "b", "c", "d", "e"]), st.integers(0, 4))
def test_every_permutation_is_a_ranking_and_none_missing_one_is(order: list[str], drop: int) -> None:
    target = Responses(("a", "b", "c", "d", "e"), ("",) * 5)
    assert check("rank", {"order": order}, target) == {"order": order}
    assert refused("rank", {"order": order[:drop] + order[drop + 1:]}, target).path == ".order"
    assert check("top", {"order": order[:drop] + order[drop + 1:]}, target)


def test_ranking_consensus_is_a_weighted_borda_count() -> None:
    rank = q("rank")
    values = [{"order": ["r1", "r2", "r3"]}, {"order": ["r1", "r2", "r3"]}, {"order": ["r3", "r2", "r1"]}]
    agg = rank.kind.aggregate(rank.spec, values)
    # points: r1 2+2+0, r2 1+1+1, r3 0+0+2, over 3 annotators x 2 points
    assert agg.value == {"order": ["r1", "r2", "r3"], "scores": {"r1": 4 / 6, "r2": 3 / 6, "r3": 2 / 6}}
    assert agg.confidence == pytest.approx((1 + 1 + 0) / 3)  # taus 1, 1, -1 as (1 + tau) / 2
    flipped = rank.kind.aggregate(rank.spec, values, [1, 1, 5])
    assert flipped.value["order"] == ["r3", "r2", "r1"]
    # A partial ranking: the candidates left out share the points of the places left.
    top = q("top")
    agg = top.kind.aggregate(top.spec, [{"order": ["r3"]}, {"order": ["r1", "r2", "r3"]}])
    assert agg.value["scores"] == {"r3": (2 + 0) / 4, "r1": (0.5 + 2) / 4, "r2": (0.5 + 1) / 4}
    assert agg.value["order"] == ["r1", "r3", "r2"]


@settings(max_examples=60, deadline=None)  # scipy's first call is slow under load
@given(st.permutations(list("abcdef")), st.permutations(list("abcdef")))
def test_kendall_tau_matches_scipy(a: list[str], b: list[str]) -> None:
    ranks_b = [b.index(x) for x in a]
    assert kendall_tau(a, b) == pytest.approx(kendalltau(range(len(a)), ranks_b).statistic)


def test_ranking_agreement_is_the_mean_pairwise_tau_in_0_1() -> None:
    rank = q("rank")
    same, reversed_ = {"order": ["r1", "r2", "r3"]}, {"order": ["r3", "r2", "r1"]}
    assert rank.kind.agreement(rank.spec, [[same, same]]) == 1.0
    assert rank.kind.agreement(rank.spec, [[same, reversed_]]) == 0.0
    assert rank.kind.agreement(rank.spec, [[same, same, reversed_]]) == pytest.approx((1 + 0 + 0) / 3)
    assert rank.kind.agreement(rank.spec, [[same]]) is None
    assert rank.kind.export_cell(rank.spec, same) == "r1 > r2 > r3"
    assert rank.kind.export_cell(rank.spec, rank.kind.aggregate(rank.spec, [same]).value) == "r1 > r2 > r3"


# --- criteria -----------------------------------------------------------------------------------

def test_criteria_rate_every_candidate_on_every_criterion() -> None:
    value = {"r3": {"correct": 2, "helpful": 1}, "r1": {"helpful": 4, "correct": 5}, "r2": {"helpful": 5, "correct": 5}}
    got = check("crit", value)
    assert list(got) == ["r1", "r2", "r3"] and list(got["r3"]) == ["helpful", "correct"]
    assert check("overall", {"helpful": 0}) == {"helpful": 0}


@pytest.mark.parametrize(("name", "value", "path", "words"), [
    ("crit", {"r1": {"helpful": 4, "correct": 5}, "r2": {"helpful": 4, "correct": 5}}, ".r3", "every candidate"),
    ("crit", {"r9": {"helpful": 4, "correct": 5}}, ".r9", "not a candidate"),
    ("crit", {"r1": {"helpful": 4}, "r2": {}, "r3": {}}, ".r1.correct", "every criterion"),
    ("crit", {"r1": {"helpful": 4, "correct": 5, "safe": 1}}, ".r1.safe", "not a criterion"),
    ("crit", {"r1": {"helpful": 6, "correct": 5}}, ".r1.helpful", "outside the scale 1..5"),
    ("crit", {"r1": {"helpful": True, "correct": 5}}, ".r1.helpful", "integer"),
    ("crit", {"r1": [4, 5]}, ".r1", "object of ratings"),
    ("crit", {}, "", "object of ratings by candidate"),
    ("overall", {"helpful": 11}, ".helpful", "outside the scale 0..10"),
    ("overall", {"r1": {"helpful": 1}}, ".r1", "not a criterion"),
])
def test_hostile_criteria_name_the_path(name: str, value: Any, path: str, words: str) -> None:
    problem = refused(name, value)
    assert problem.path == path and words in problem.message, (problem.path, problem.message)


def test_criteria_consensus_is_the_weighted_median_per_cell() -> None:
    crit = q("crit")
    values = [{"r1": {"helpful": 1, "correct": 5}, "r2": {"helpful": 3, "correct": 3}},
              {"r1": {"helpful": 2, "correct": 5}, "r2": {"helpful": 3, "correct": 3}},
              {"r1": {"helpful": 5, "correct": 5}, "r2": {"helpful": 3, "correct": 1}}]
    agg = crit.kind.aggregate(crit.spec, values)
    assert agg.value == {"r1": {"helpful": 2, "correct": 5}, "r2": {"helpful": 3, "correct": 3}}
    # Each cell's confidence is the share within one point of its median: 2/3, 1, 1, 2/3.
    assert agg.confidence == pytest.approx((2 / 3 + 1 + 1 + 2 / 3) / 4)
    assert crit.kind.aggregate(crit.spec, values, [1, 1, 10]).value["r1"]["helpful"] == 5
    overall = q("overall")
    assert overall.kind.aggregate(overall.spec, [{"helpful": 2}, {"helpful": 8}, {"helpful": 7}]).value == {"helpful": 7}


def test_criteria_agreement_is_the_rating_agreement_over_cells() -> None:
    crit = q("crit")
    a = {"r1": {"helpful": 1, "correct": 5}}
    b = {"r1": {"helpful": 5, "correct": 5}}
    # cells: helpful 1 vs 5 -> 1 - 4/4 = 0; correct 5 vs 5 -> 1
    assert crit.kind.agreement(crit.spec, [[a, b]]) == 0.5
    assert crit.kind.export_cell(crit.spec, a) == '{"r1":{"helpful":1,"correct":5}}'


# --- rewrite ------------------------------------------------------------------------------------

def test_the_server_computes_the_diff_and_ignores_the_clients() -> None:
    got = check("rw", {"response": "r1", "text": "Paris is in France.", "diff": [["equal", 0, 999, 0, 999]]})
    assert got["diff"] == [list(op) for op in difflib.SequenceMatcher(
        None, "Paris is in Germany.", "Paris is in France.", autojunk=False).get_opcodes()]
    assert got["response"] == "r1" and got["text"] == "Paris is in France."
    assert check("rw", {"response": "r1", "text": "x"}, None)["diff"] is None


@pytest.mark.parametrize(("name", "value", "path", "words"), [
    ("rw", {"response": "r1", "text": "Paris is in Germany."}, ".text", "changes 0 characters"),
    ("rw", {"response": "r7", "text": "x"}, ".response", "not a candidate"),
    ("rw", {"response": "r1", "text": None}, ".text", "as a string"),
    ("rw", {"response": "r1"}, ".text", "missing"),
    ("rw", {"response": "r1", "text": "y" * 200_001}, ".text", "at most"),
    ("rw", "Paris is in France.", "", "expected an object"),
])
def test_hostile_rewrites_name_the_path(name: str, value: Any, path: str, words: str) -> None:
    problem = refused(name, value)
    assert problem.path == path and words in problem.message, (problem.path, problem.message)


def test_min_change_zero_accepts_the_response_as_it_is() -> None:
    assert check("rw0", {"response": "r3", "text": "Paris."})["diff"] == [["equal", 0, 6, 0, 6]]


def apply(a: str, b: str, diff: list[list[Any]]) -> str:
    """`b` rebuilt from `a` and the opcodes, checking that they tile both texts in order."""
    out, at_a, at_b = [], 0, 0
    for op, a0, a1, b0, b1 in diff:
        assert (a0, b0) == (at_a, at_b) and op in ("equal", "replace", "delete", "insert")
        if op == "equal":
            assert a[a0:a1] == b[b0:b1]
        out.append(b[b0:b1] if op != "equal" else a[a0:a1])
        at_a, at_b = a1, b1
    assert (at_a, at_b) == (len(a), len(b))
    return "".join(out)


@given(st.text(alphabet="ab \n", max_size=60), st.text(alphabet="ab \n", max_size=60))
def test_small_diffs_are_difflibs_own(a: str, b: str) -> None:
    diff = char_diff(a, b)
    assert diff == [list(op) for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()]
    assert apply(a, b, diff) == b


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet="abc ", min_size=40, max_size=80), min_size=20, max_size=60), st.data())
def test_long_diffs_still_turn_one_text_into_the_other(lines: list[str], data: st.DataObject) -> None:
    a = "\n".join(lines) * 3
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(a)), st.text(alphabet="xyz\n", max_size=30)), max_size=5))
    b = a
    for at, text in sorted(edits, reverse=True):
        b = b[:at] + text + b[at + 3:]
    assert len(a) * len(b) > DIFF_BUDGET
    diff = char_diff(a, b)
    assert apply(a, b, diff) == b
    assert changed(diff) <= max(len(a), len(b))


def test_a_hostile_pair_of_long_texts_is_diffed_within_the_budget() -> None:
    a, b = "a\n" * 50_000, "b\n" * 50_000  # 50,000 lines each: more line pairs than the budget
    n = len(a) - 1  # the last newline is a common suffix
    assert char_diff(a, b) == [["replace", 0, n, 0, n], ["equal", n, n + 1, n, n + 1]]
    a, b = "ab" * 50_000, "ba" * 50_000
    assert apply(a, b, char_diff(a, b)) == b


def test_rewrite_consensus_is_a_majority_text_or_none() -> None:
    rw = q("rw")
    v = [{"response": "r1", "text": "Paris is in France.", "diff": []},
         {"response": "r1", "text": "Paris is  in France. ", "diff": []},
         {"response": "r2", "text": "Paris, France.", "diff": []}]
    agg = rw.kind.aggregate(rw.spec, v)
    assert agg.value == v[0] and agg.confidence == pytest.approx(2 / 3)
    split = rw.kind.aggregate(rw.spec, v, [1, 0, 1])
    assert split.value is None and split.confidence == 0.5
    assert rw.kind.agreement(rw.spec, [v]) == 1.0  # the only pair on the same response agrees
    assert rw.kind.agreement(rw.spec, [[v[0], v[2]]]) is None


# --- response spans -----------------------------------------------------------------------------

def span(start: int, end: int, label: str = "hallucination") -> dict[str, Any]:
    return {"start": start, "end": end, "label": label}


def test_response_spans_are_offsets_into_that_candidates_content() -> None:
    got = check("flags", {"response": "r1", "spans": [span(12, 19), span(0, 5, "unsafe")]})
    assert got == {"response": "r1", "spans": [span(0, 5, "unsafe"), span(12, 19)]}


@pytest.mark.parametrize(("value", "path", "words"), [
    ({"response": "r3", "spans": [span(0, 7)]}, ".spans[0].end", "past the end of the text (6 characters)"),
    ({"response": "r1", "spans": [span(0, 4), span(2, 6)]}, ".spans", "overlap"),
    ({"response": "r1", "spans": [span(0, 4, "rude")]}, ".spans[0].label", "not a label"),
    ({"response": "r1", "spans": [{"start": -1, "end": 2, "label": "unsafe"}]}, ".spans[0].start", "negative"),
    ({"response": "r0", "spans": []}, ".response", "not a candidate"),
    ({"response": "r1", "spans": "all of it"}, ".spans", "list of spans"),
    ({"spans": []}, ".response", "missing"),
])
def test_hostile_response_spans_name_the_path(value: Any, path: str, words: str) -> None:
    problem = refused("flags", value)
    assert problem.path == path and words in problem.message, (problem.path, problem.message)


def test_response_spans_consensus_and_agreement_per_response() -> None:
    flags = q("flags")
    v = [{"response": "r1", "spans": [span(12, 19)]}, {"response": "r1", "spans": [span(12, 19), span(0, 5)]},
         {"response": "r1", "spans": []}, {"response": "r2", "spans": [span(0, 5, "unsafe")]}]
    agg = flags.kind.aggregate(flags.spec, v)
    assert agg.value == {"r1": [span(12, 19)], "r2": [span(0, 5, "unsafe")]}
    # r1: spans (12,19) kept by 2/3 and (0,5) dropped by 2/3 -> 2/3, weight 3; r2: 1, weight 1
    assert agg.confidence == pytest.approx((2 / 3 * 3 + 1) / 4)
    # r1's pairs: F1 2/3, 0, 0 (one empty, one not); r2 has no pair
    assert flags.kind.agreement(flags.spec, [v]) == pytest.approx((2 / 3 + 0 + 0) / 3)
    assert flags.kind.export_cell(flags.spec, v[0]) == '{"response":"r1","spans":[{"start":12,"end":19,"label":"hallucination"}]}'


def test_a_whole_answer_is_checked_naming_each_question() -> None:
    answer = {
        "pref": {"left": "r1", "right": "r2", "winner": "left"},
        "plain": {"left": "r1", "right": "r2", "winner": "right"},
        "why": {"left": "r1", "right": "r3", "winner": "right", "reason": "shorter"},
        "rank": {"order": ["r2", "r1", "r3"]}, "top": {"order": ["r2"]},
        "crit": {r: {"helpful": 3, "correct": 3} for r in ("r1", "r2", "r3")}, "overall": {"helpful": 5},
        "rw": {"response": "r1", "text": "Paris is in France."}, "rw0": {"response": "r2", "text": "Paris is in France."},
        "flags": {"response": "r2", "spans": []},
    }
    assert set(SCHEMA.validate_answer(answer, {"responses": CANDIDATES})) == set(answer)
    bad = {**answer, "rank": {"order": ["r2", "r2"]}, "flags": {"response": "r2", "spans": [span(0, 99)]}}
    with pytest.raises(Invalid) as e:
        SCHEMA.validate_answer(bad, {"responses": CANDIDATES})
    assert {p["field"] for p in e.value.detail} == {"rank.order[1]", "flags.spans[0].end"}


def test_every_permutation_of_sides_aggregates_alike() -> None:
    pref = q("pref")
    votes = [("r1", "r2", "r1"), ("r1", "r2", "r2"), ("r1", "r2", "r1"), ("r2", "r3", "tie")]
    results = set()
    for sides in itertools.product([False, True], repeat=len(votes)):
        values = []
        for (x, y, won), swap in zip(votes, sides, strict=True):
            left, right = (y, x) if swap else (x, y)
            values.append({"left": left, "right": right,
                           "winner": "tie" if won == "tie" else "left" if won == left else "right"})
        results.add(repr(pref.kind.aggregate(pref.spec, values)))
    assert len(results) == 1


def test_a_value_matches_gold_or_consensus_by_what_it_means() -> None:
    pref, rank, rw, flags = q("pref"), q("rank"), q("rw"), q("flags")
    gold = check("pref", {"left": "r1", "right": "r2", "winner": "left", "strength": 3})
    swapped = check("pref", {"left": "r2", "right": "r1", "winner": "right", "reason": "clearer"})
    assert pref.kind.matches_gold(pref.spec, swapped, gold)
    assert not pref.kind.matches_gold(pref.spec, {**swapped, "winner": "tie"}, gold)
    assert not pref.kind.matches_gold(pref.spec, check("pref", {"left": "r1", "right": "r3", "winner": "left"}), gold)
    assert not pref.kind.matches_gold(pref.spec, None, gold)
    settled = pref.kind.aggregate(pref.spec, [gold, swapped]).value
    assert pref.kind.matches_gold(pref.spec, swapped, settled)
    assert not pref.kind.matches_gold(pref.spec, {**gold, "winner": "right"}, settled)
    ranked = rank.kind.aggregate(rank.spec, [{"order": ["r2", "r1", "r3"]}]).value
    assert rank.kind.matches_gold(rank.spec, {"order": ["r2", "r1", "r3"]}, ranked)
    assert not rank.kind.matches_gold(rank.spec, {"order": ["r1", "r2", "r3"]}, ranked)
    text = {"response": "r1", "text": "Paris is in France.", "diff": None}
    assert rw.kind.matches_gold(rw.spec, {**text, "text": " Paris is in  France."}, text)
    assert not rw.kind.matches_gold(rw.spec, {**text, "response": "r2"}, text)
    flagged = {"response": "r1", "spans": [span(12, 19)]}
    assert flags.kind.matches_gold(flags.spec, flagged, flagged)
    assert flags.kind.matches_gold(flags.spec, flagged, flags.kind.aggregate(flags.spec, [flagged]).value)
    assert not flags.kind.matches_gold(flags.spec, {"response": "r2", "spans": [span(12, 19)]}, {"r1": [span(12, 19)]})
