"""Fuzz every operation of the HTTP API from its own OpenAPI document (schemathesis).

Each operation gets a fresh database with a seeded project (members, items, answers, a gold
item, a job, a spare token) and a signed-in admin who owns the project. Requests are drawn
from the document: valid ones, many aimed at the seeded ids (some with a body known to be
accepted), so that the operation's own logic runs and not only its "not found"; and invalid ones
(out-of-range ids, wrong types, malformed bodies). Every response must be no server error, a status code the document
declares, with the declared content type and a body that matches the declared schema; and
invalid requests must be refused with a 4xx.

Runs on SQLite and, under `make test-postgres`, on PostgreSQL. Examples are derandomized, so a
run is reproducible; the number per operation is bounded to keep the whole file to a couple of
minutes on a small machine.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from labelloop.api.app import create_app
from labelloop.config import Settings
from labelloop.services.accounts import tokens
from labelloop.services.runtime import Runtime
from tests.platform.conftest import make_settings
from tests.platform.pictures import stored_in
from tests.platform.world import OPERATOR, SCHEMA, User, World

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
]
EXAMPLES = 32
# Operations that start background work or a whole import cost more per request.
FEWER = {
    ("POST", "/api/projects/{project_id}/imports"): 12,
    ("POST", "/api/projects/{project_id}/loop/rounds"): 8,
    ("POST", "/api/projects/{project_id}/loop/prelabel"): 8,
    ("POST", "/api/projects/{project_id}/quality/recompute"): 8,
}


def _operations() -> list[tuple[str, str]]:
    # The document does not depend on the database, so a runtime that never connects will do.
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(Settings(_env_file=None, data_dir=Path(tmp)))  # type: ignore[call-arg]
        try:
            spec = create_app(runtime).openapi()
        finally:
            runtime.close()
    return [(method.upper(), path) for path, ops in spec["paths"].items() for method in ops]


OPERATIONS = _operations()


PASSWORD = "correct horse battery"


@pytest.fixture(name="settings")  # replaces conftest's; `settings` here is hypothesis's
def settings_with_a_provider(tmp_path: Path, database_url: str) -> Settings:
    """One OpenID Connect provider, so its endpoints run past "not found"; nothing listens at its
    issuer (the discard port on loopback), so a sign-in there fails at once, as it must: clearly."""
    provider = {"name": "fuzz", "issuer": "http://127.0.0.1:9", "client_id": "fuzz",
                "redirect_url": "http://testserver/api/auth/oidc/fuzz/callback"}
    return make_settings(tmp_path, database_url, oidc_providers=[provider])


@dataclass
class Seeded:
    owner: User
    ids: dict[str, list[int]]  # path parameter -> ids that exist in the seeded world


def seed(world: World) -> Seeded:
    owner = world.user("owner", admin=True, password=PASSWORD)
    annotator, reviewer = world.user("annotator"), world.user("reviewer")
    pid = world.project(owner, overlap=2, members={"annotator": (annotator,), "reviewer": (reviewer,)})
    world.import_records(owner, pid, [{"id": f"r{i}", "text": f"review number {i}"} for i in range(6)])
    c = world.client
    for user, value in ((annotator, "pos"), (reviewer, "neg")):  # disagreement: items go to review
        for _ in range(2):
            task = world.next(user, pid).json()
            assert world.submit(user, pid, task["item_id"], {"sentiment": value}).status_code == 201
    world.next(owner, pid)  # the owner holds a lease, so submit, skip and renew can succeed
    item_ids = [i["id"] for i in c.get(f"/api/projects/{pid}/items", headers=owner.headers).json()]
    gold = c.put(f"/api/projects/{pid}/items/{item_ids[-1]}/gold", json={"value": {"sentiment": "neu"}},
                 headers=owner.headers)
    assert gold.status_code == 200, gold.text
    answer_ids = [a["id"] for a in c.get(f"/api/projects/{pid}/answers", headers=owner.headers).json()]
    job_ids = [j["id"] for j in c.get(f"/api/projects/{pid}/jobs", headers=owner.headers).json()]
    # A token of the owner's other than the one the fuzzer signs in with, for DELETE /tokens/{id}.
    spare = world.runtime.db.run(lambda conn: tokens.create_token(conn, OPERATOR, owner.id, "spare"))
    stored = stored_in(world.runtime, pid)  # a file the project holds, for the blob endpoints
    release = c.post(f"/api/projects/{pid}/releases", json={"name": "v1"}, headers=owner.headers)
    assert release.status_code == 201, release.text
    saved = c.post(f"/api/projects/{pid}/slices", json={"name": "open ones", "filter": {"status": "open"}},
                   headers=owner.headers)
    assert saved.status_code == 201, saved.text
    ids = {
        "project_id": [pid],
        "item_id": item_ids,
        "answer_id": answer_ids,
        "user_id": [annotator.id, reviewer.id, owner.id],
        "job_id": job_ids,
        "token_id": [spare.info.id],
        "sha256": [stored],
        "provider": ["fuzz"],  # configured by the `settings` fixture below
        "name": ["v1"], "file": ["card.json", "train.parquet"],  # a release and its files
        "group_id": item_ids[:1],  # a duplicate group is named by its smallest item id
        "slice_id": [saved.json()["id"]],
    }
    assert all(ids.values()), ids
    return Seeded(owner, ids)


def _answer(sentiment: str, **extra: Any) -> dict[str, Any]:
    return {"body": {"value": {"sentiment": sentiment}, **extra}}


# Requests that the operation accepts (at seeded ids), which random data rarely hits: the body,
# and the query where it matters. Schemathesis still draws whatever these leave out.
VALID: dict[tuple[str, str], Callable[[Seeded], dict[str, Any]]] = {
    ("POST", "/api/auth/login"): lambda s: {"body": {"username": "owner", "password": PASSWORD}},
    ("POST", "/api/auth/session"): lambda s: {"body": {"username": "owner", "password": PASSWORD}},
    ("POST", "/api/me/password"): lambda s: {
        "body": {"current_password": PASSWORD, "new_password": "a new long password"}},
    ("POST", "/api/users"): lambda s: {"body": {"username": "newcomer", "password": "long enough"}},
    ("PATCH", "/api/users/{user_id}"): lambda s: {"body": {"display_name": "Renamed"}},
    ("POST", "/api/tokens"): lambda s: {"body": {"name": "fuzz", "expires_in_days": 3, "scopes": ["read", "annotate"]}},
    ("POST", "/api/projects"): lambda s: {"body": {"name": "fuzzed", "label_schema": SCHEMA, "overlap": 2}},
    ("POST", "/api/schemas/check"): lambda s: {"body": {"label_schema": SCHEMA}},
    ("PATCH", "/api/projects/{project_id}"): lambda s: {"body": {"description": "changed", "overlap": 3}},
    ("POST", "/api/projects/{project_id}/members"): lambda s: {
        "body": {"username": "annotator", "role": "reviewer"}},
    ("PUT", "/api/projects/{project_id}/members/{user_id}"): lambda s: {"body": {"role": "reviewer"}},
    ("POST", "/api/projects/{project_id}/imports"): lambda s: {
        "body": b'{"id": "new", "text": "fresh"}\n', "query": {"filename": "new.jsonl", "wait": "true"}},
    ("PUT", "/api/projects/{project_id}/items/{item_id}/gold"): lambda s: _answer("pos"),
    ("POST", "/api/projects/{project_id}/items/priorities"): lambda s: {
        "body": {"priorities": [{"item_id": i, "priority": 2.5} for i in s.ids["item_id"]]}},
    ("POST", "/api/projects/{project_id}/tasks/next"): lambda s: {"body": {"exclude": s.ids["item_id"][:1]}},
    ("POST", "/api/projects/{project_id}/items/{item_id}/answers"): lambda s: _answer("pos", duration_ms=1200),
    ("POST", "/api/projects/{project_id}/items/{item_id}/skip"): lambda s: {"body": {"reason": "unclear"}},
    ("POST", "/api/projects/{project_id}/answers/{answer_id}/revisions"): lambda s: _answer("neu"),
    ("POST", "/api/projects/{project_id}/items/{item_id}/review"): lambda s: _answer("pos"),
    ("PUT", "/api/projects/{project_id}/annotators/{user_id}/pause"): lambda s: {
        "body": {"paused": True, "reason": "fuzz"}},
    ("POST", "/api/projects/{project_id}/quality/recompute"): lambda s: {"query": {"wait": "true"}},
    ("POST", "/api/projects/{project_id}/loop/rounds"): lambda s: {"query": {"wait": "true"}},
    ("POST", "/api/projects/{project_id}/loop/prelabel"): lambda s: {"query": {"wait": "true"}},
    ("GET", "/api/projects/{project_id}/search"): lambda s: {"query": {"like": s.ids["item_id"][0], "k": 3}},
    ("POST", "/api/projects/{project_id}/slices"): lambda s: {"body": {"name": "fuzzed", "filter": {"review": "pending"}}},
    ("POST", "/api/projects/{project_id}/slices/preview"): lambda s: {"body": {"filter": {"ids": s.ids["item_id"]}}},
    ("POST", "/api/projects/{project_id}/items/{item_id}/segment"): lambda s: {"body": {"box": [0, 0, 1, 1]}},
    ("POST", "/api/projects/{project_id}/items/{item_id}/track"): lambda s: {"body": {"frame": 0, "box": [0, 0, 1, 1]}},
    # The seeded schema has no preference question: a real question's name gets its 422 (not one).
    ("GET", "/api/projects/{project_id}/feedback/leaderboard"): lambda s: {"query": {"question": "sentiment"}},
    ("PATCH", "/api/projects/{project_id}/privacy"): lambda s: {"body": {"enabled": True, "annotators": "masked"}},
    ("POST", "/api/projects/{project_id}/privacy/scan"): lambda s: {"query": {"wait": "true"}},
    # Data protection: a retention, its run (nothing is old enough: counted, nothing deleted), an
    # erasure of one seeded item (later examples find it gone: their 404), a data subject's dry run.
    ("PUT", "/api/projects/{project_id}/retention"): lambda s: {"body": {"days": 30}},
    ("POST", "/api/projects/{project_id}/retention/run"): lambda s: {"body": {"dry_run": True}},
    ("POST", "/api/projects/{project_id}/erasure"): lambda s: {"body": {"items": s.ids["item_id"][:1]}},
}


def strategy(operation: Any, seeded: Seeded) -> st.SearchStrategy[Any]:
    """Requests at seeded ids (valid ones first), then valid and invalid requests anywhere."""
    names = [p.name for p in operation.path_parameters]
    seeded_params = st.fixed_dictionaries({n: st.sampled_from(seeded.ids[n]) for n in names})
    branches = []
    valid = VALID.get((operation.method.upper(), operation.path))
    if valid is not None:
        fixed = valid(seeded)
        branches.append(seeded_params.flatmap(
            lambda params: operation.as_strategy(GenerationMode.POSITIVE, path_parameters=params, **fixed)))
    if names:
        branches.append(seeded_params.flatmap(
            lambda params: operation.as_strategy(GenerationMode.POSITIVE, path_parameters=params)))
    branches += [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    return st.one_of(*branches)


def fuzz(operation: Any, cases: st.SearchStrategy[Any], headers: dict[str, str], examples: int) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # the server keeps state, so shrinking would not replay
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=cases)
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_its_document(world: World, method: str, path: str) -> None:
    seeded = seed(world)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(world.runtime))
    operation = schema[path][method]
    examples = FEWER.get((method, path), EXAMPLES)
    fuzz(operation, strategy(operation, seeded), seeded.owner.headers, examples)


def test_every_known_good_request_names_an_operation() -> None:
    # A renamed path would otherwise leave its known-good request silently unused.
    assert set(VALID) <= set(OPERATIONS)


