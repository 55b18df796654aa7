"""A team's own model in the loop: over HTTP (a real server speaking the protocol) or as a
Python entry point; and pre-labels that are required."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from importlib.metadata import EntryPoint
from typing import Any, ClassVar

import numpy as np
import pytest
from sqlalchemy import select

from labelloop.services.loop import models as loop_models
from labelloop.store.models import items, predictions
from tests.platform.stub_http import JsonHandler, serving
from tests.platform.test_loop_flow import SCHEMA, WORDS, corpus, label, text
from tests.platform.world import User, World


def keyword_proba(items: Sequence[dict[str, Any]], classes: list[str]) -> list[list[float]]:
    """A transparent model: the share of each class's keywords in the text."""
    out = []
    for item in items:
        words = item["data"]["text"].split()
        hits = np.array([sum(w in WORDS[c] for w in words) for c in classes], dtype=float) + 0.1
        out.append(list(hits / hits.sum()))
    return out


class KeywordModel:
    """The same model as a Python class, for the entry-point route."""

    def fit(self, items: Sequence[dict[str, Any]], x: np.ndarray, y: np.ndarray, weights: np.ndarray,
            classes: list[str], question: str) -> np.ndarray:
        self.class_counts = np.bincount(y, minlength=len(classes))
        return np.array(keyword_proba(items, classes))

    def predict_proba(self, items: Sequence[dict[str, Any]], x: np.ndarray, classes: list[str],
                      question: str) -> np.ndarray:
        return np.array(keyword_proba(items, classes))


class ModelServer(JsonHandler):
    trained: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/train":
            ModelServer.trained.append(body)
            answer = {"oof_probabilities": keyword_proba(body["items"], body["classes"])}
        elif self.path == "/predict":
            answer = {"probabilities": keyword_proba(body["items"], body["classes"])}
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.reply_json(answer)


@pytest.fixture
def model_url() -> Iterator[str]:
    with serving(ModelServer) as url:
        yield url


def setup(world: World, loop: dict[str, Any], n: int = 60) -> tuple[User, User, int, dict[str, str]]:
    import random

    owner, ann = world.user("o"), world.user("a")
    truth = corpus(n, seed=12)
    rng = random.Random(4)
    pid = world.project(owner, schema=SCHEMA, overlap=1, members={"annotator": (ann,)})
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers,
                           json={"quality": {"review_below": 0.0}, "loop": loop})
    assert r.status_code == 200, r.text
    world.import_records(owner, pid, [{"id": k, "text": text(v, rng)} for k, v in truth.items()])
    return owner, ann, pid, truth


def run_round(world: World, owner: User, pid: int) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["status"] == "succeeded", r.text
    return dict(r.json()["result"])


def test_a_model_served_over_http_trains_and_predicts(world: World, model_url: str) -> None:
    import random

    ModelServer.trained.clear()
    owner, ann, pid, truth = setup(world, {"model": model_url, "autolabel_target": 0.85}, n=150)
    assert run_round(world, owner, pid)["trained"] is False  # cold start draws the validation sample
    label(world, pid, ann, truth, 100, random.Random(1))
    result = run_round(world, owner, pid)
    assert result["model"] == model_url and result["oof_accuracy"] > 0.9
    [sent] = ModelServer.trained
    assert len(sent["items"]) == 100 and set(sent["items"][0]) == {"id", "data", "label", "weight"}
    # half the labels were the random validation sample: enough to certify 85%
    assert result["validation_labelled"] >= 45 and result["autolabelled"] > 0, result
    with world.runtime.db.read() as conn:
        stored = conn.execute(select(items.c.external_id, predictions.c.value)
                              .join(items, items.c.id == predictions.c.item_id)).all()
    assert len(stored) == 150 and all(v["topic"] == truth[k] for k, v in stored)


def test_an_unreachable_model_fails_the_round_with_a_clear_error(world: World) -> None:
    import random

    owner, ann, pid, truth = setup(world, {"model": "http://127.0.0.1:9/nowhere"})
    label(world, pid, ann, truth, 25, random.Random(1))
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    job = r.json()
    assert job["status"] == "failed" and job["error"]["message"] == "the external model could not be reached"
    assert job["error"]["problems"][0]["field"] == "loop.model"


def test_a_model_installed_as_a_python_entry_point(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    ep = EntryPoint("keywords", "tests.platform.test_loop_models:KeywordModel", loop_models.ENTRY_POINT_GROUP)
    monkeypatch.setattr(loop_models, "entry_points", lambda group: [ep] if group == ep.group else [])
    owner, ann, pid, truth = setup(world, {"model": "python:keywords"})
    label(world, pid, ann, truth, 25, random.Random(1))
    assert run_round(world, owner, pid)["oof_accuracy"] > 0.9
    bad = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"model": "ftp://x"}})
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "loop.model"
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"model": "python:nope"}})
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["status"] == "failed" and "no entry point 'nope'" in r.json()["error"]["problems"][0]["message"]


def test_required_prelabels_hold_back_items_the_model_has_not_answered(world: World) -> None:
    import random

    owner, ann, pid, truth = setup(world, {"prelabels": "require", "autolabel_target": None}, n=40)
    assert world.next(ann, pid).status_code == 204  # no model yet: nothing to hand out
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"prelabels": "suggest"}})
    label(world, pid, ann, truth, 22, random.Random(2))
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"prelabels": "require"}})
    run_round(world, owner, pid)
    task = world.next(ann, pid).json()
    assert task["prelabel"] is not None
