"""Docs that drift from the code fail the build."""

from __future__ import annotations

import re
from pathlib import Path

from labelloop.config import Settings
from labelloop.schema import parse_schema
from labelloop.schema.document import load_document

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_every_setting_is_documented_with_its_default() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(LABELLOOP_[A-Z0-9_]+)` \| ([^|]+) \|", readme, re.M))
    expected = {f"LABELLOOP_{name.upper()}" for name in Settings.model_fields}
    assert set(rows) == expected
    for name, field in Settings.model_fields.items():
        if field.default is not None:
            shown = rows[f"LABELLOOP_{name.upper()}"].strip().strip("`")
            assert shown == str(field.default).lower() if isinstance(field.default, bool) else shown == str(field.default)


def test_schema_examples_parse() -> None:
    """Every YAML block of the docs is a label schema (or its questions), read as the server reads it."""
    blocks = [(page.name, block) for page in sorted((ROOT / "docs").glob("*.md"))
              for block in re.findall(r"```yaml\n(.*?)```", page.read_text(), re.S)]
    assert len(blocks) >= 6 and {"schema.md", "video.md"} <= {name for name, _ in blocks}
    for _name, block in blocks:
        doc = load_document(block)
        doc.setdefault("fields", [{"name": "text"}])
        parse_schema(doc)


def test_api_examples_cover_every_endpoint(tmp_path: Path) -> None:
    from labelloop.api.app import create_app
    from labelloop.services.runtime import Runtime

    spec = create_app(Runtime(Settings(_env_file=None, data_dir=tmp_path))).openapi()  # type: ignore[call-arg]
    text = (ROOT / "docs" / "api.md").read_text()
    for path, ops in spec["paths"].items():
        pattern = re.escape(path)
        for name in re.findall(r"\{(\w+)\}", path):
            value = {"sha256": r"[0-9a-f]{64}", "provider": r"[a-z0-9_-]+", "name": r"[A-Za-z0-9._-]+",
                     "file": r"[A-Za-z0-9._-]+"}.get(name, r"\d+")
            pattern = pattern.replace(re.escape("{" + name + "}"), value)
        for method in ops:
            m = method.upper()
            found = re.search(rf"(-X {m} )?\$API{pattern}(\?|\"|\s|$)", text)
            assert found and (m == "GET" or f"-X {m} $API" in text), f"{m} {path} has no example in docs/api.md"


def test_quality_settings_table_matches_the_model() -> None:
    from labelloop.services.quality.settings import QualitySettings

    text = (ROOT / "docs" / "quality.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", text, re.M))
    assert set(rows) == set(QualitySettings.model_fields)
    for name, field in QualitySettings.model_fields.items():
        shown = rows[name].strip()
        expected = "null" if field.default is None else str(field.default).lower()
        assert shown == expected, name


def test_loop_settings_table_matches_the_model() -> None:
    from labelloop.services.loop.settings import LoopSettings

    text = (ROOT / "docs" / "loop.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", text, re.M))
    assert set(rows) == set(LoopSettings.model_fields)
    for name, field in LoopSettings.model_fields.items():
        expected = "null" if field.default is None else str(field.default).lower()
        assert rows[name].strip() == expected, name
