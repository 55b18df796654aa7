"""MkDocs hook: writes reference/http.md from the server's OpenAPI document at build time, so the
HTTP reference is the API that the code serves, never a copy that drifts from it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

PAGE = "reference/http.md"
METHODS = ("get", "post", "put", "patch", "delete")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    files.append(File.generated(config, PAGE, content=http_reference(openapi())))
    return files


def openapi() -> dict[str, Any]:
    from labelloop.api.app import create_app
    from labelloop.config import Settings
    from labelloop.services.runtime import Runtime

    with tempfile.TemporaryDirectory() as data_dir:  # the app needs a data folder; nothing is kept
        settings = Settings(_env_file=None, data_dir=Path(data_dir))  # type: ignore[call-arg]
        return create_app(Runtime(settings)).openapi()


def http_reference(spec: dict[str, Any]) -> str:
    """Markdown: the operations grouped by their first path segment after /api, then the schemas."""
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, ops in spec["paths"].items():
        for method in METHODS:
            if method in ops:
                groups.setdefault(_group(path), []).append((method, path, ops[method]))
    lines = [
        "# HTTP API reference",
        "",
        f"Generated from the OpenAPI document of labelloop {spec['info'].get('version', '')} at build time "
        "(the server also serves it at `/api/openapi.json`). Every call needs a token "
        "(`Authorization: Bearer ...`) or a signed-in session unless it says otherwise; "
        "[HTTP API by example](../api.md) shows each one with `curl`.",
        "",
    ]
    for group in sorted(groups):
        lines += [f"## {group}", ""]
        for method, path, op in groups[group]:
            lines += _operation(method, path, op)
    lines += ["## Schemas", ""]
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        lines += _schema(name, schema)
    return "\n".join(lines) + "\n"


def _group(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    if parts[:1] == ["api"]:
        parts = parts[1:]
    if parts[:1] == ["projects"] and len(parts) > 1:
        return f"projects / {parts[1]}"
    return parts[0] if parts else "/"


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    out = [f"### `{method.upper()} {path}`", ""]
    if op.get("summary"):
        out += [_escape(op["summary"]), ""]
    if op.get("description"):
        out += [_escape(op["description"]), ""]
    params = op.get("parameters", [])
    if params:
        out += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        for p in params:
            out.append(f"| `{p['name']}` | {p['in']} | {_type(p.get('schema', {}))} | "
                       f"{'yes' if p.get('required') else 'no'} | {_cell(p.get('description', ''))} |")
        out.append("")
    body = op.get("requestBody", {}).get("content", {})
    for media, content in body.items():
        out += [f"Body ({media}): {_type(content.get('schema', {}))}", ""]
    responses = op.get("responses", {})
    if responses:
        out += ["| status | meaning |", "|---|---|"]
        for status, response in responses.items():
            schema = next(iter(response.get("content", {}).values()), {}).get("schema")
            shown = f" — {_type(schema)}" if schema else ""
            out.append(f"| {status} | {_cell(response.get('description', ''))}{shown} |")
        out.append("")
    return out


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    out = [f"### {name}", ""]
    if schema.get("description"):
        out += [_escape(schema["description"]), ""]
    props = schema.get("properties", {})
    if props:
        required = set(schema.get("required", []))
        out += ["| field | type | required |", "|---|---|---|"]
        for field, sub in props.items():
            out.append(f"| `{field}` | {_type(sub)} | {'yes' if field in required else 'no'} |")
        out.append("")
    elif "enum" in schema:
        out += ["One of " + ", ".join(f"`{v}`" for v in schema["enum"]) + ".", ""]
    return out


def _type(schema: dict[str, Any] | None) -> str:
    """A short, linked rendering of a JSON schema: `Project`, `list of int`, `str or null`."""
    if not schema:
        return "any"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_type(s) for s in schema[key])
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type(schema.get('items'))}"
    values = schema.get("additionalProperties")
    if kind == "object" and isinstance(values, dict):
        return f"map of {_type(values)}"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    return {"integer": "int", "string": "str", "boolean": "bool", "number": "float", "null": "null",
            "object": "object"}.get(str(kind), "any")


def _cell(text: str) -> str:
    return _escape(" ".join(str(text).split())).replace("|", "\\|")


def _escape(text: str) -> str:
    return str(text).replace("<", "&lt;").replace(">", "&gt;")
