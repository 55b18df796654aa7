"""The label schema document: valid documents parse, invalid ones name the offending path."""

from __future__ import annotations

from typing import Any

import pytest

from labelloop.errors import Invalid
from labelloop.schema import parse_schema
from labelloop.schema.label_type import type_names

GOOD = """
title: Reviews
fields:
  - {name: text, type: text, label: Review}
questions:
  - name: sentiment
    type: choice
    options: [positive, {value: negative, label: Negative, key: n}]
  - {name: topics, type: multi_choice, options: [plot, acting], max_selected: 1, required: false}
  - {name: stars, type: rating, min: 1, max: 5, labels: {1: bad, 5: great}}
  - {name: note, type: text, required: false, max_length: 20}
"""


def problems(source: Any) -> list[tuple[str | None, str]]:
    with pytest.raises(Invalid) as e:
        parse_schema(source)
    return [(p.field, p.message) for p in e.value.problems]


def test_yaml_and_json_documents_parse_to_the_same_schema() -> None:
    from_yaml = parse_schema(GOOD)
    from_json = parse_schema(from_yaml.document)
    assert from_yaml.document == from_json.document
    assert [q.name for q in from_yaml.questions] == ["sentiment", "topics", "stars", "note"]
    assert from_yaml.question("sentiment").spec.options[1].key == "n"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("doc", "path", "fragment"),
    [
        ({"questions": [{"name": "q", "type": "choice", "options": ["a"]}]}, "fields", "Field required"),
        ({"fields": [{"name": "t"}], "questions": []}, "questions", "at least 1"),
        ({"fields": [{"name": "t"}], "questions": [{"name": "q", "type": "choice", "options": []}]},
         "questions[0].options", "at least 1"),
        ({"fields": [{"name": "t"}], "questions": [{"name": "q", "type": "polygonz"}]},
         "questions[0].type", "unknown question type 'polygonz'"),
        ({"fields": [{"name": "t"}], "questions": [{"name": "q", "type": "choice", "options": ["a", "a"]}]},
         "questions[0]", "listed twice"),
        ({"fields": [{"name": "t"}], "questions": [{"name": "q", "type": "rating", "min": 5, "max": 1}]},
         "questions[0]", "max must be larger"),
        ({"fields": [{"name": "t"}, {"name": "t"}], "questions": [{"name": "q", "type": "text"}]},
         "fields[1].name", "used twice"),
        ({"fields": [{"name": "id"}], "questions": [{"name": "q", "type": "text"}]},
         "fields[0].name", "reserved"),
        ({"fields": [{"name": "t", "type": "pdf"}], "questions": [{"name": "q", "type": "text"}]},
         "fields[0].type", "Input should be"),
        ({"fields": [{"name": "t"}], "questions": [{"name": "q", "type": "text", "target": "t"}]},
         "questions[0].target", "takes no 'target'"),
        ({"fields": [{"name": "t"}], "questions": [{"name": "q", "type": "choice", "options": ["a"],
                                                     "colour": "red"}]},
         "questions[0].colour", "unknown key 'colour'; known keys: help, label, name, options"),
        ({"fields": [{"name": "t"}], "questions": [{"name": "1q", "type": "text"}]},
         "questions[0].name", "should match pattern"),
    ],
)
def test_invalid_schema_names_the_offending_path(doc: dict[str, Any], path: str, fragment: str) -> None:
    found = problems(doc)
    assert any(field == path and fragment in message for field, message in found), found


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(Invalid) as e:
        parse_schema("fields:\n  - name: t\n questions: [\n")
    assert e.value.problems[0].line is not None


def test_yaml_syntax_error_is_line_and_column_in_words_without_the_caret_art() -> None:
    text = "fields:\n  - {name: text}\nquestions:\n  - name: q\n    type: text\n   required: false\n"
    with pytest.raises(Invalid) as e:
        parse_schema(text)
    [p] = e.value.problems
    assert (p.line, p.column) == (6, 4)
    assert p.message == ("expected the end of the block, but found a new key at a different indentation "
                         "(in the block that starts on line 4)")
    assert "^" not in str(e.value) and "<unicode string>" not in str(e.value) and "\n" not in str(e.value)
    assert str(p).startswith("line 6, column 4: expected the end of the block")
    with pytest.raises(Invalid) as e:
        parse_schema("fields:\n\t- name: t\n")
    assert [(p.line, p.column, p.message) for p in e.value.problems] == [
        (2, 1, "a tab character: indent YAML with spaces")]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"fields": [{"name": "t"}], "questons": [{"name": "q", "type": "text"}]},
         [("questons", "unknown key 'questons'; did you mean 'questions'?")]),
        ({"feilds": [{"name": "t"}], "questions": [{"name": "q", "type": "text"}], "titel": "x"},
         [("feilds", "unknown key 'feilds'; did you mean 'fields'?"),
          ("titel", "unknown key 'titel'; did you mean 'title'?")]),
        ({"fields": [{"nmae": "t"}], "questions": [{"name": "q", "type": "text"}]},
         [("fields[0].nmae", "unknown key 'nmae'; did you mean 'name'?")]),
        ({"fields": [{"name": "t"}], "questions": [{"name": "q", "type": "choice", "option": ["a"]}]},
         [("questions[0].option", "unknown key 'option'; did you mean 'options'?")]),
        ({"fields": [{"name": "t"}], "questions": [{"name": "q", "type": "rating", "min": 1, "max": 5, "lables": {}}]},
         [("questions[0].lables", "unknown key 'lables'; did you mean 'labels'?")]),
        ({"fields": [{"name": "t"}], "questions": [{"name": "q", "type": "chioce", "options": ["a"]}]},
         [("questions[0].type", "unknown question type 'chioce'; did you mean 'choice'? "
                                f"known: {', '.join(type_names())}")]),
    ],
)
def test_a_misspelled_key_is_named_with_the_key_it_was_meant_to_be(
    doc: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    # Only the misspelling: the key it stands for is not reported missing as well.
    assert problems(doc) == expected


def test_answers_are_validated_and_canonicalised() -> None:
    s = parse_schema(GOOD)
    assert s.validate_answer({"sentiment": "negative", "stars": 4, "topics": ["plot"]}) == {
        "sentiment": "negative", "stars": 4, "topics": ["plot"]
    }
    with pytest.raises(Invalid) as e:
        s.validate_answer({"sentiment": "meh", "stars": 9, "topics": ["plot", "acting"],
                           "note": "x" * 21, "extra": 1})
    fields = {p.field: p.message for p in e.value.problems}
    assert set(fields) == {"sentiment", "stars", "topics", "note", "extra"}
    assert "not an option" in fields["sentiment"]
    assert "outside the scale 1..5" in fields["stars"]
    assert "at most 1" in fields["topics"]
    assert fields["extra"] == "no such question in the schema"
    with pytest.raises(Invalid) as e:
        s.validate_answer({"topics": ["plot"]})
    assert {p.field for p in e.value.problems} == {"sentiment", "stars"}


def test_bool_is_not_a_rating() -> None:
    s = parse_schema(GOOD)
    with pytest.raises(Invalid):
        s.validate_answer({"sentiment": "positive", "stars": True})


def test_yes_and_no_are_options_not_booleans() -> None:
    """YAML 1.2's booleans: `[yes, no, on, off]` are four words (YAML 1.1 would read booleans),
    while `required: false` still reads as the boolean."""
    schema = parse_schema(
        "fields: [{name: text}]\n"
        "questions:\n"
        "  - {name: ok, type: choice, options: [yes, no, on, off]}\n"
        "  - {name: note, type: text, required: false}\n"
    )
    for word in ("yes", "no", "on", "off"):
        assert schema.validate_answer({"ok": word}) == {"ok": word}  # note: not required
    assert schema.questions[1].spec.required is False
