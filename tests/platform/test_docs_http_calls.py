"""Every `curl` call in the docs' bash blocks is checked against the API the code serves, and sent
to it: the route exists for its method, its query parameters are ones the operation declares,
its JSON body is valid against the operation's request schema (OpenAPI, with jsonschema), and
the server, given the call as written (an administrator's token for `$H`, an empty body for a
file the docs upload), answers it without a server error. Ids in the docs are examples (project
1, item 42): a call may meet a 404 for the object, never one for the route."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import pytest
from fastapi.testclient import TestClient

from tests.platform.world import World

DOCS = Path(__file__).resolve().parents[2] / "docs"
API = "http://labelloop.test"
# curl options that take a value, and the ones that take none (anything else fails the parse).
WITH_VALUE = {"-X", "--request", "-H", "--header", "-d", "--data", "--data-binary", "--data-raw",
              "-o", "--output", "-w", "--write-out", "-c", "--cookie-jar", "-b", "--cookie",
              "-F", "--form", "-T", "--upload-file", "-r", "--range", "--max-time", "-D", "--dump-header"}
FLAGS = {"-s", "--silent", "-S", "-f", "--fail", "-L", "--location", "-i", "-N", "--no-buffer",
         "-I", "--head", "-G", "--get", "-v", "--compressed"}
DATA = {"-d", "--data", "--data-binary", "--data-raw"}
STOP = {"|", "||", "&&", ";", ">", ">>", "<"}


@dataclass
class Call:
    where: str  # page:line, for the failure message
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # a JSON body written out; None for none or a file (@name)
    uploads_file: bool = False
    shown: int | None = None  # the 4xx the docs' next line shows ("# 422 ..."), if any


def bash_blocks() -> Iterator[tuple[str, int, str]]:
    """(page, first line, text) of each ```bash block under docs/."""
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text()
        for m in re.finditer(r"```bash\n(.*?)```", text, re.S):
            yield page.relative_to(DOCS).as_posix(), text[:m.start()].count("\n") + 2, m.group(1)


def commands(block: str) -> Iterator[tuple[int, int, list[str]]]:
    """Each logical command of a block (continued lines and quotes spanning lines joined) as
    shell words, comments dropped, with its first and last line's offsets in the block."""
    pending, start = "", 0
    for n, line in enumerate(block.splitlines()):
        if not pending:
            start = n
        pending += line + "\n"
        if line.endswith("\\"):
            continue
        try:
            words = shlex.split(pending.replace("\\\n", " "), comments=True)
        except ValueError:  # a quote still open: the command goes on
            continue
        pending = ""
        if words:
            yield start, n, words


def curl_calls(where: str, words: list[str]) -> Iterator[Call]:
    """The curl invocations among one command's words (also inside `$(...)`)."""
    for i, word in enumerate(words):
        if word == "curl" or word.endswith("$(curl"):
            yield parse_curl(where, words[i + 1:])


def parse_curl(where: str, args: list[str]) -> Call:
    method, url, headers, body, uploads = None, None, {}, None, False
    i = 0
    while i < len(args) and args[i] not in STOP:
        a = args[i]
        if a in WITH_VALUE:
            value = args[i + 1]
            i += 2
            if a in ("-X", "--request"):
                method = value
            elif a in ("-H", "--header"):
                if value == "$H":  # the docs' H="Authorization: Bearer $TOKEN"
                    value = "Authorization: Bearer $TOKEN"
                name, _, v = value.partition(":")
                headers[name.strip().lower()] = v.strip()
            elif a in DATA:
                uploads = value.startswith("@")
                body = None if uploads else value
            elif a in ("-F", "--form", "-T", "--upload-file"):
                uploads = True
            continue
        if a in FLAGS:
            i += 1
            continue
        assert not a.startswith("-"), f"{where}: curl option {a} unknown to this test: add it"
        assert url is None, f"{where}: two URLs ({url}, {a})"
        url = a.rstrip(")")
        i += 1
    assert url is not None, f"{where}: curl without a URL"
    url = url.replace("$API", API).replace("${API}", API)
    assert url.startswith(API), f"{where}: the URL {url} does not start with $API"
    parts = urlsplit(url)
    if method is None:
        method = "POST" if body is not None or uploads else "GET"
    return Call(where, method.upper(), parts.path, parse_qsl(parts.query, keep_blank_values=True),
                headers, body, uploads)


def all_calls() -> list[Call]:
    calls = []
    for page, line, block in bash_blocks():
        lines = block.splitlines()
        for first, last, words in commands(block):
            shown = re.match(r"\s*#\s*(4\d\d)\b", lines[last + 1]) if last + 1 < len(lines) else None
            for call in curl_calls(f"{page}:{line + first}", words):
                call.shown = int(shown.group(1)) if shown else None
                calls.append(call)
    return calls


CALLS = all_calls()


def test_the_calls_are_found() -> None:
    assert len(CALLS) >= 100
    pages = {c.where.split(":")[0] for c in CALLS}
    assert {"api.md", "security.md"} <= pages
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= {c.method for c in CALLS}


def operation(spec: dict[str, Any], call: Call) -> tuple[str, dict[str, Any]] | None:
    """The OpenAPI path template and operation that take this method and path; literal segments
    win over parameters (`/items/export` before `/items/{item_id}`), as in the router."""
    found = []
    for template, ops in spec["paths"].items():
        pattern = re.sub(r"\\{[^}/]+\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, call.path) and call.method.lower() in ops:
            found.append((template.count("{"), template, ops[call.method.lower()]))
    if not found:
        return None
    _, template, op = min(found, key=lambda f: f[0])
    return template, op


def body_schema(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    return {**schema, "components": spec.get("components", {})}  # $ref "#/components/..." resolves


def check_contract(spec: dict[str, Any], call: Call) -> list[str]:
    """What in the call the served API does not have (empty when it matches)."""
    found = operation(spec, call)
    if found is None:
        return [f"{call.where}: no operation takes {call.method} {call.path}"]
    template, op = found
    problems = []
    declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    for name, _value in call.query:
        if name not in declared:
            problems.append(f"{call.where}: {call.method} {template} has no query parameter {name!r}"
                            f" (it has {sorted(declared)})")
    schema = body_schema(spec, op)
    if call.body is not None and call.headers.get("content-type") == "application/json":
        try:
            body = json.loads(call.body)
        except json.JSONDecodeError as e:
            return [*problems, f"{call.where}: the JSON body does not parse: {e}"]
        if schema is None:
            problems.append(f"{call.where}: {call.method} {template} takes no JSON body")
        else:
            for error in jsonschema.Draft202012Validator(schema).iter_errors(body):
                path = "/".join(map(str, error.absolute_path)) or "(the body)"
                problems.append(f"{call.where}: {path}: {error.message}")
    return problems


def written_to_fail(spec: dict[str, Any], call: Call) -> bool:
    """A call the docs write wrong on purpose: its body breaks the contract and the next line shows
    the refusal (checked by sending it)."""
    return call.shown is not None and call.body is not None and bool(check_contract(spec, call))


def test_every_call_matches_the_served_api(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    problems = [p for call in CALLS if not written_to_fail(spec, call) for p in check_contract(spec, call)]
    assert problems == []


def test_a_wrong_call_is_caught(client: TestClient) -> None:
    """The checks above can fail: a renamed route, an unknown parameter and a bad body are found."""
    spec = client.app.openapi()  # type: ignore[attr-defined]
    bad = [
        Call("x:1", "GET", "/api/projets/1", []),
        Call("x:2", "DELETE", "/api/me", []),
        Call("x:3", "GET", "/api/projects", [("colour", "red")]),
        Call("x:4", "POST", "/api/projects", [], {"content-type": "application/json"}, '{"name": 3}'),
        Call("x:5", "POST", "/api/users", [], {"content-type": "application/json"}, "{oops"),
    ]
    found = [check_contract(spec, c) for c in bad]
    assert [len(f) > 0 for f in found] == [True] * len(bad), found
    assert "no query parameter 'colour'" in found[2][0]
    assert "3 is not of type 'string'" in " ".join(found[3])


def test_every_call_is_answered_without_a_server_error(client: TestClient, world: World) -> None:
    admin = world.user("admin", admin=True, password="a-long-password")
    alice = world.user("alice")
    tweets = {"fields": [{"name": "text"}], "questions": [  # the docs' first project
        {"name": "sentiment", "type": "choice", "options": ["positive", "negative", "neutral"]}]}
    for n in range(5):  # the docs' projects 1 to 5
        world.project(admin, schema=tweets if n == 0 else None, members={"annotator": (alice,)})
    spec = client.app.openapi()  # type: ignore[attr-defined]
    answered, refused, succeeded = 0, 0, 0
    # Deletions last, so that the calls after one in the docs still find their project.
    for call in sorted(CALLS, key=lambda c: c.method == "DELETE"):
        headers = {k: v for k, v in call.headers.items() if k != "authorization"}
        if "authorization" in call.headers:
            headers["authorization"] = f"Bearer {admin.token}"
        headers.pop("x-csrf-token", None)  # the docs' cookie jar is not kept here
        content = (call.body or "").encode() if call.body is not None else b""
        r = client.request(call.method, call.path, params=call.query, headers=headers, content=content,
                           follow_redirects=False)
        assert r.status_code < 500, f"{call.where}: {call.method} {call.path}: {r.status_code} {r.text[:300]}"
        if written_to_fail(spec, call):
            assert r.status_code == call.shown, f"{call.where}: {r.status_code} {r.text[:300]}"
            refused += 1
        answered += 1
        succeeded += r.is_success
    assert answered == len(CALLS) and refused >= 1
    assert succeeded >= len(CALLS) // 3, "the calls are not reaching the API (authentication?)"


@pytest.mark.parametrize("text, expected", [
    ("curl -s -H \"$H\" $API/api/me", ("GET", "/api/me")),
    ("TOKEN=$(curl -s -X POST $API/api/auth/login -d '{}' | jq -r .token)", ("POST", "/api/auth/login")),
    ("curl -s -H \"$H\" -X POST \"$API/api/projects/1/imports?filename=a.jsonl\" --data-binary @a.jsonl",
     ("POST", "/api/projects/1/imports")),
])
def test_the_parser_reads_shell_as_bash_would(text: str, expected: tuple[str, str]) -> None:
    (_, _, words), = commands(text)
    (call,) = curl_calls("t:1", words)
    assert (call.method, call.path) == expected
