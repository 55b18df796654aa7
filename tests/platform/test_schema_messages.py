"""What `POST /api/schemas/check` says about a schema with a mistake (issue #10, finding 11):
a YAML error as line and column in words, and a misspelled key with the one it was meant to be."""

from __future__ import annotations

from typing import Any

from tests.platform.world import World

SCHEMA = """fields:
  - {name: text}
questions:
  - name: sentiment
    type: choice
   options: [positive, negative]
"""


def check(world: World, schema: Any) -> Any:
    user = world.user()
    return world.client.post("/api/schemas/check", json={"label_schema": schema}, headers=user.headers)


def test_a_yaml_error_is_its_line_and_column_in_words(world: World) -> None:
    r = check(world, SCHEMA)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["problems"] == [{
        "line": 6, "column": 4,
        "message": "expected the end of the block, but found a new key at a different indentation "
                   "(in the block that starts on line 4)",
    }]
    assert "^" not in error["message"] and "<unicode string>" not in error["message"]
    assert error["message"].startswith("the schema is not valid YAML or JSON: line 6, column 4: expected")


def test_a_misspelled_key_names_the_one_meant(world: World) -> None:
    r = check(world, SCHEMA.replace("   options", "    option").replace("questions:", "questons:"))
    assert r.status_code == 422
    assert r.json()["error"]["problems"] == [
        {"field": "questons", "message": "unknown key 'questons'; did you mean 'questions'?"}]
    r = check(world, SCHEMA.replace("   options", "    option"))
    assert r.json()["error"]["problems"] == [
        {"field": "questions[0].option", "message": "unknown key 'option'; did you mean 'options'?"}]
