"""The API boundary: bounded ids, strict bodies, malformed input, routes, downloads, headers.

Every refusal here is a 422 (or 405/404) in the project's error shape, decided before any
membership check, so that no signed-in user can make the server fail with a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from labelloop.api.app import create_app
from labelloop.api.download import content_disposition
from labelloop.api.json_body import JSONRoute
from labelloop.api.security import secure_headers
from labelloop.config import PROVIDER_NAME
from labelloop.web.static import CONTENT_SECURITY_POLICY
from tests.platform.world import User, World

BIG = 2**63  # one more than the largest id either database can hold
MAX = 2**63 - 1


def assert_error(r: Any, status: int, kind: str, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["type"] == kind and isinstance(error["message"], str) and isinstance(error["problems"], list)
    if field is not None:
        assert field in [p["field"] for p in error["problems"]], error
    return dict(error)


@pytest.fixture
def outsider_and_project(world: World) -> tuple[User, int]:
    """A signed-in user, and a project with items that they are not a member of."""
    owner, outsider = world.user(), world.user()
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}])
    return outsider, pid


# (method, url, request keywords, the field the 422 must name); {p} is the project id.
OUT_OF_RANGE: list[tuple[str, str, dict[str, Any], str]] = [
    ("GET", f"/api/projects/{BIG}", {}, "project_id"),
    ("GET", "/api/projects/-1", {}, "project_id"),
    ("GET", "/api/projects/0", {}, "project_id"),
    ("GET", f"/api/projects/{10**30}/items", {}, "project_id"),
    ("GET", f"/api/projects/{{p}}/items/{BIG}", {}, "item_id"),
    ("GET", "/api/projects/{p}/items/-5", {}, "item_id"),
    ("GET", f"/api/projects/{{p}}/answers/{BIG}", {}, "answer_id"),
    ("GET", "/api/projects/{p}/answers", {"params": {"after": BIG}}, "after"),
    ("GET", "/api/projects/{p}/answers", {"params": {"after": -1}}, "after"),
    ("GET", "/api/projects/{p}/answers", {"params": {"before": BIG}}, "before"),
    ("GET", "/api/projects/{p}/answers", {"params": {"item_id": BIG}}, "item_id"),
    ("GET", "/api/projects/{p}/answers", {"params": {"user_id": BIG}}, "user_id"),
    ("GET", "/api/projects/{p}/answers", {"params": {"user_id": 0}}, "user_id"),
    ("GET", "/api/projects/{p}/items", {"params": {"after": BIG}}, "after"),
    ("GET", "/api/projects/{p}/items", {"params": {"annotator": BIG}}, "annotator"),
    ("GET", "/api/projects/{p}/review/next", {"params": {"after": BIG}}, "after"),
    ("POST", "/api/projects/{p}/items/priorities",
     {"json": {"priorities": [{"item_id": BIG, "priority": 1}]}}, "priorities.0.item_id"),
    ("POST", "/api/projects/{p}/items/priorities",
     {"json": {"priorities": [{"item_id": -3, "priority": 1}]}}, "priorities.0.item_id"),
    ("POST", "/api/projects/{p}/tasks/next", {"json": {"exclude": [BIG]}}, "exclude.0"),
    ("POST", f"/api/projects/{{p}}/items/{BIG}/answers", {"json": {"value": {}}}, "item_id"),
    ("PUT", f"/api/projects/{{p}}/members/{BIG}", {"json": {"role": "annotator"}}, "user_id"),
    ("PUT", f"/api/projects/{{p}}/annotators/{BIG}/pause", {"json": {"paused": True}}, "user_id"),
    ("GET", f"/api/jobs/{BIG}", {}, "job_id"),
    ("DELETE", f"/api/tokens/{BIG}", {}, "token_id"),
    ("PATCH", f"/api/users/{BIG}", {"json": {}}, "user_id"),
    ("POST", "/api/tokens", {"json": {"name": "t", "user_id": BIG}}, "user_id"),
    ("POST", "/api/projects", {"json": {"name": "n", "label_schema": {}, "overlap": BIG}}, "overlap"),
    ("POST", "/api/projects", {"json": {"name": "n", "label_schema": {}, "lease_seconds": BIG}},
     "lease_seconds"),
    ("PATCH", "/api/projects/{p}", {"json": {"overlap": 2**40}}, "overlap"),
    ("POST", "/api/projects/{p}/items/1/answers", {"json": {"value": {}, "duration_ms": BIG}}, "duration_ms"),
]


@pytest.mark.parametrize(("method", "url", "kwargs", "field"), OUT_OF_RANGE,
                         ids=[f"{m} {u} {f}" for m, u, _, f in OUT_OF_RANGE])
def test_an_integer_out_of_range_is_a_422_for_any_signed_in_user(
    world: World, outsider_and_project: tuple[User, int], method: str, url: str, kwargs: dict[str, Any],
    field: str,
) -> None:
    outsider, pid = outsider_and_project
    r = world.client.request(method, url.format(p=pid), headers=outsider.headers, **kwargs)
    assert_error(r, 422, "invalid", field)


def test_the_largest_id_is_accepted_and_simply_not_found(world: World) -> None:
    owner = world.user()
    pid = world.project(owner)
    assert_error(world.client.get(f"/api/projects/{MAX}", headers=owner.headers), 404, "not_found")
    assert_error(world.client.get(f"/api/projects/{pid}/items/{MAX}", headers=owner.headers), 404, "not_found")
    r = world.client.get(f"/api/projects/{pid}/answers", params={"after": MAX, "item_id": MAX},
                         headers=owner.headers)
    assert r.status_code == 200 and r.json() == []


@pytest.mark.parametrize("bad", [[False], [True], [1.0], ["1"]])
def test_next_task_refuses_an_exclude_that_is_not_a_list_of_ids(world: World, bad: list[Any]) -> None:
    owner = world.user()
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": "a", "text": "one"}])
    assert_error(world.next(owner, pid, exclude=bad), 422, "invalid", "exclude.0")


@pytest.mark.parametrize("priority", ["NaN", "Infinity", "-Infinity", "true"])
def test_a_priority_must_be_a_finite_number(world: World, priority: str) -> None:
    owner = world.user()
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": "a", "text": "one"}])
    item = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]["id"]
    # Python's JSON reader takes NaN and Infinity, so the body is written by hand.
    body = f'{{"priorities": [{{"item_id": {item}, "priority": {priority}}}]}}'
    r = world.client.post(f"/api/projects/{pid}/items/priorities", content=body,
                          headers={**owner.headers, "Content-Type": "application/json"})
    assert_error(r, 422, "invalid", "priorities.0.priority")


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"exclude": [1,', "Expecting value"),
    (b"not json at all", "Expecting value"),
    (b'{"exclude": [1]} trailing', "Extra data"),
    (b'\xff\xfe{"exclude": []}', "not UTF-8"),
    (b'{"exclude": [], "x": "\xed\xa0\x80"}', "not UTF-8"),  # a surrogate written as UTF-8 bytes
    (b'{"exclude": [], "x": "\\ud800"}', "unpaired UTF-16 surrogate"),
    (b'{"exclude": [], "x": "a\\u0000b"}', "NUL character"),
])
def test_a_body_that_cannot_be_read_is_a_422_in_the_project_shape(world: World, body: bytes, reason: str) -> None:
    owner = world.user()
    pid = world.project(owner)
    r = world.client.post(f"/api/projects/{pid}/tasks/next", content=body,
                          headers={**owner.headers, "Content-Type": "application/json"})
    error = assert_error(r, 422, "invalid", "body")
    assert reason in error["message"]
    assert "detail" not in r.json()


def test_strings_that_a_database_cannot_store_are_refused_before_they_reach_it(world: World) -> None:
    # PostgreSQL stores no NUL and no driver encodes a lone surrogate: both were 500s.
    owner = world.user(admin=True)
    pid = world.project(owner)
    c = world.client
    for text in ('"a\\u0000b"', '"a\\udc00b"'):
        body = f'{{"description": {text}}}'.encode()
        r = c.patch(f"/api/projects/{pid}", content=body, headers={**owner.headers, "Content-Type": "application/json"})
        assert_error(r, 422, "invalid", "body")
        r = c.post("/api/users", content=f'{{"username": {text}}}'.encode(),
                   headers={**owner.headers, "Content-Type": "application/json"})
        assert_error(r, 422, "invalid", "body")
    assert_error(c.get(f"/api/projects/{pid}/items", params={"q": "a\x00b"}, headers=owner.headers),
                 422, "invalid", "q")
    # A pair of surrogates is one character, and fine.
    r = c.patch(f"/api/projects/{pid}", content=b'{"description": "smile \\ud83d\\ude00"}',
                headers={**owner.headers, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["description"] == "smile \U0001F600"


def test_get_on_priorities_is_a_405_not_an_item_called_priorities(world: World) -> None:
    owner = world.user()
    pid = world.project(owner)
    r = world.client.get(f"/api/projects/{pid}/items/priorities", headers=owner.headers)
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "POST"
    # A path segment that is not a number names no route at all.
    assert_error(world.client.get(f"/api/projects/{pid}/items/abc", headers=owner.headers), 404, "not_found")
    assert_error(world.client.get("/api/nothing-here", headers=owner.headers), 404, "not_found")


@pytest.mark.parametrize("name", ["日本語のレビュー", "Ελληνικά δεδομένα", "Café 2026", "plain_name"])
def test_export_of_a_project_named_in_any_script(world: World, name: str) -> None:
    owner = world.user()
    pid = world.project(owner, name=name)
    world.import_records(owner, pid, [{"id": "a", "text": "one"}])
    r = world.client.get(f"/api/projects/{pid}/export", headers=owner.headers)
    assert r.status_code == 200, r.text
    header = r.headers["content-disposition"]
    header.encode("ascii")  # the whole header is ASCII
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert fallback.endswith(".jsonl") and unquote(encoded).endswith(".jsonl")
    stem = unquote(encoded).removesuffix(".jsonl")
    assert stem.replace("_", " ") == name.replace("_", " ")  # the service turns spaces into "_"


def test_content_disposition_survives_quotes_backslashes_and_control_characters() -> None:
    header = content_disposition('a "quoted"\\name\r\nSet-Cookie: x=1;.csv')
    assert "\r" not in header and "\n" not in header
    fallback = header.split('filename="', 1)[1].rsplit('"; filename*=', 1)[0]
    assert '"' not in fallback and "\\" not in fallback
    assert header.endswith("filename*=UTF-8''a%20%22quoted%22%5Cname%0D%0ASet-Cookie%3A%20x%3D1%3B.csv")
    assert content_disposition("Ελληνικά.csv").startswith('attachment; filename="download.csv"; ')
    assert content_disposition("Café.csv").startswith('attachment; filename="Cafe.csv"; ')


@pytest.mark.parametrize("path", ["/api/health", "/api/me", "/api/projects/1", "/docs", "/redoc",
                                  "/openapi.json", "/api/projects/1/items/priorities"])
def test_api_and_docs_responses_forbid_sniffing_and_framing(client: TestClient, path: str) -> None:
    r = client.get(path)  # some of these are errors (401, 405): those need the headers as well
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_the_web_app_keeps_its_own_policy(client: TestClient) -> None:
    r = client.get("/app/")  # the page, or the "not built" answer: both carry the app's headers
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert r.headers.get_list("x-frame-options") == ["DENY"]
    assert r.headers.get_list("x-content-type-options") == ["nosniff"]


def test_security_headers_merge_into_an_existing_policy() -> None:
    merged = dict(secure_headers([(b"content-security-policy", b"default-src 'self';")]))
    assert merged[b"content-security-policy"] == b"default-src 'self'; frame-ancestors 'none'"
    assert merged[b"x-content-type-options"] == b"nosniff" and merged[b"x-frame-options"] == b"DENY"
    kept = secure_headers([(b"Content-Security-Policy", b"frame-ancestors 'self'"), (b"X-Frame-Options", b"SAMEORIGIN")])
    assert kept[:2] == [(b"Content-Security-Policy", b"frame-ancestors 'self'"), (b"X-Frame-Options", b"SAMEORIGIN")]


def test_the_document_declares_each_operations_errors_with_the_error_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    error_ref = "#/components/schemas/ErrorOut"
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's {"detail"} is never sent
    assert {"HTTPBearer", "APIKeyCookie"} <= set(spec["components"]["securitySchemes"])
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    assert response["content"]["application/json"]["schema"]["$ref"] == error_ref, where
            if path == "/api/health":
                continue
            declared = set(op["responses"])
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in declared, where
            if "{" in path:
                assert "404" in declared, where
            if op.get("security"):
                assert "401" in declared, where
                if method != "get":
                    assert "403" in declared, where  # a browser session without its CSRF header
            for p in op.get("parameters", []):
                if p["in"] == "path" and p["name"] == "provider":  # an OpenID Connect provider's name
                    assert p["schema"]["pattern"] == PROVIDER_NAME, where
                elif p["in"] == "path" and "/releases/" in path and p["name"] in ("name", "file"):
                    assert p["schema"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", where  # a release, its file
                elif p["in"] == "path" and p["schema"].get("type") == "string":
                    assert p["schema"]["pattern"] == "^[0-9a-f]{64}$", where  # a SHA-256 names a stored file
                elif p["in"] == "path":
                    assert p["schema"]["minimum"] == 1 and p["schema"]["maximum"] == MAX, where


def test_every_route_reads_bodies_and_queries_strictly(client: TestClient) -> None:
    app = create_app(client.app.state.runtime)  # type: ignore[attr-defined]
    routes = [r for r in app.routes if isinstance(r, APIRoute) and r.path.startswith("/api/")]
    assert routes and all(isinstance(r, JSONRoute) for r in routes if r.path != "/api/health")


def test_an_unexpected_failure_still_answers_in_the_error_shape(runtime: Any) -> None:
    app = create_app(runtime)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("internal detail that must not leak")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/boom")
    assert_error(r, 500, "internal")
    assert "internal detail" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
