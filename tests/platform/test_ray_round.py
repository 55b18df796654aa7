"""A loop round with Ray (LABELLOOP_RAY_ADDRESS) gives what the same round gives in process: the
same metrics, predictions, queue priorities, auto-labels and suspected label errors. One local
Ray cluster (2 CPUs) serves the whole module; without the `ray` extra the setting fails at once."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, update

from labelloop.errors import Conflict, Invalid
from labelloop.learn import embed, get_encoder
from labelloop.services.compute import InProcess, batch_map, round_steps
from labelloop.services.loop import rounds
from labelloop.store.models import consensus, items, model_versions, predictions
from tests.platform.test_loop_flow import SCHEMA, WORDS, corpus, text
from tests.platform.world import OPERATOR, User, World

LOOP = {"strategy": "entropy", "min_labels": 20, "autolabel_target": 0.6, "validation_items": 30,
        "label_error_min_per_class": 5, "label_error_confidence": 0.6}


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    # a cluster of the test's own, even where another runs on this machine; rounds join it ("auto")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _project(world: World, owner: User, ann: User, name: str, data_dir: Path,
             ray_address: str | None) -> tuple[int, dict[str, Any]]:
    """150 items, a cold-start round (it draws the validation sample), then 90 answers from an
    annotator who is wrong one time in eight (label errors to find); the project and the round."""
    truth = corpus(150, seed=21)
    rng = random.Random(5)
    pid = world.project(owner, schema=SCHEMA, overlap=1, members={"annotator": (ann,)}, name=name)
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers,
                           json={"quality": {"review_below": 0.0}, "loop": LOOP})
    assert r.status_code == 200, r.text
    world.import_records(owner, pid, [{"id": k, "text": text(v, rng)} for k, v in truth.items()])
    cold = rounds.run_round(world.runtime.db, OPERATOR, pid, data_dir=data_dir, ray_address=ray_address)
    answers = random.Random(9)
    for _ in range(90):
        t = world.next(ann, pid).json()
        right = truth[t["external_id"]]
        given = right if answers.random() < 7 / 8 else next(w for w in WORDS if w != right)
        assert world.submit(ann, pid, t["item_id"], {"topic": given}).status_code == 201
    return pid, cold


def _outcome(world: World, pid: int, result: dict[str, Any]) -> dict[str, Any]:
    """What a round left behind, by external id (the two projects' item ids differ)."""
    with world.runtime.db.read() as conn:
        rows = conn.execute(select(items.c.id, items.c.external_id, items.c.priority, items.c.validation,
                                   items.c.label_issue).where(items.c.project_id == pid)).all()
        ext = {r.id: r.external_id for r in rows}
        version = conn.execute(select(model_versions.c.id).where(model_versions.c.project_id == pid)
                               .order_by(model_versions.c.id.desc()).limit(1)).scalar_one()
        predicted = {ext[r.item_id]: (r.value, r.confidence) for r in conn.execute(
            select(predictions.c.item_id, predictions.c.value, predictions.c.confidence)
            .where(predictions.c.model_version_id == version))}
        auto = {ext[r.item_id]: (r.value, r.confidence) for r in conn.execute(
            select(consensus.c.item_id, consensus.c.value, consensus.c.confidence)
            .where(consensus.c.project_id == pid, consensus.c.method == rounds.AUTO))}
        stored = conn.execute(select(model_versions.c.metrics).where(model_versions.c.id == version)).scalar_one()
    metrics = {k: v for k, v in result.items() if k not in ("model_version", "compute", "label_issue_items")}
    return {
        "metrics": metrics, "stored": {k: v for k, v in stored.items() if k not in ("compute", "label_issue_items")},
        "issues": [ext[i] for i in result.get("label_issue_items", [])],
        "predictions": predicted, "auto": auto,
        "priorities": {r.external_id: r.priority for r in rows},
        "validation": sorted(r.external_id for r in rows if r.validation),
        "flags": {r.external_id: r.label_issue for r in rows if r.label_issue is not None},
    }


def test_a_round_on_ray_gives_what_it_gives_in_process(
    world: World, ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(round_steps, "BATCH_ITEMS", 16)  # 150 items: 10 batches, so batches matter
    owner, ann = world.user("o"), world.user("a")
    here, cold_here = _project(world, owner, ann, "in process", tmp_path / "here", None)
    there, cold_there = _project(world, owner, ann, "on ray", tmp_path / "there", "auto")
    assert cold_here["trained"] is False and _outcome(world, here, cold_here) == _outcome(world, there, cold_there)
    local = rounds.run_round(world.runtime.db, OPERATOR, here, data_dir=tmp_path / "here")
    remote = rounds.run_round(world.runtime.db, OPERATOR, there, data_dir=tmp_path / "there",
                              ray_address="auto")
    assert (local["compute"], remote["compute"]) == ("in-process", "ray")
    a, b = _outcome(world, here, local), _outcome(world, there, remote)
    assert "trained" not in local and a["metrics"]["labelled"] == 90
    assert len(a["predictions"]) == 150 and len(a["auto"]) == local["autolabelled"] > 0
    assert len(a["issues"]) == local["label_issues"] > 0 and a["flags"]
    for key in a:
        assert a[key] == b[key], key


def test_ray_embeds_the_items_it_reads_from_the_store_as_one_call_would(
    world: World, ray_cluster: Any,
) -> None:
    owner = world.user("o")
    pid = world.project(owner, schema=SCHEMA)
    rng = random.Random(2)
    texts = [text(v, rng) for v in corpus(40, seed=3).values()]
    world.import_records(owner, pid, [{"id": f"i{k}", "text": t} for k, t in enumerate(texts)])
    with world.runtime.db.read() as conn:
        ids = np.array(conn.execute(select(items.c.id).where(items.c.project_id == pid)
                                    .order_by(items.c.id)).scalars().all(), dtype=np.int64)
    whole = embed(get_encoder("hashed-tfidf"), texts)
    for runner in (InProcess(), batch_map("auto")):
        x = round_steps.embed_items(runner, world.runtime.db, pid, ids, text_fields=["text"],
                                    encoder="hashed-tfidf", cache_dir=None, batch_items=7)
        assert x.dtype == np.float32 and x.shape == (40, 1024)
        assert np.array_equal(x, whole), runner.name


def test_the_setting_without_the_extra_fails_before_any_work(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    owner = world.user("o")
    pid = world.project(owner, schema=SCHEMA)
    with pytest.raises(Invalid) as e:
        rounds.run_round(world.runtime.db, OPERATOR, pid, data_dir=tmp_path, ray_address="auto")
    assert e.value.message == "LABELLOOP_RAY_ADDRESS is 'auto' but Ray is not installed"
    assert e.value.detail == [{
        "field": "ray_address",
        "message": "install the ray extra (pip install 'labelloop[ray]') or unset the setting"}]
    with world.runtime.db.read() as conn:
        assert conn.execute(select(model_versions.c.id).where(model_versions.c.project_id == pid)).all() == []


def test_an_item_gone_between_the_round_reading_it_and_its_batch_is_named(world: World) -> None:
    owner = world.user("o")
    pid = world.project(owner, schema=SCHEMA)
    world.import_records(owner, pid, [{"id": f"i{k}", "text": f"text {k}"} for k in range(5)])
    with world.runtime.db.read() as conn:
        ids = np.array(conn.execute(select(items.c.id).where(items.c.project_id == pid)
                                    .order_by(items.c.id)).scalars().all(), dtype=np.int64)
    world.runtime.db.run(lambda c: c.execute(update(items).where(items.c.id == int(ids[3])).values(staged=True)))
    with pytest.raises(Conflict) as e:
        round_steps.embed_items(InProcess(), world.runtime.db, pid, ids, text_fields=["text"],
                                encoder="hashed-tfidf", cache_dir=None, batch_items=2)
    assert e.value.message == f"item {int(ids[3])} left the project while the round ran; run it again"
