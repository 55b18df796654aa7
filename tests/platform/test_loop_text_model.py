"""The built-in text model in a round: n-grams stacked beside the embeddings, and fine-tuning with
its fallback to the frozen encoder (too few labels, another encoder, the extra missing)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import func, select

from labelloop.store.models import predictions
from tests.platform.test_loop_flow import label
from tests.platform.test_loop_models import run_round, setup
from tests.platform.world import World


def test_a_text_round_stacks_ngrams_beside_the_embeddings(world: World) -> None:
    owner, ann, pid, truth = setup(world, {"encoder": "minilm"}, n=150)
    assert run_round(world, owner, pid)["trained"] is False
    label(world, pid, ann, truth, 60, random.Random(2))
    result = run_round(world, owner, pid)
    assert result["text_model"]["finetune"] is None and result["text_model"]["ngrams"] > 100
    assert result["oof_accuracy"] > 0.9
    with world.runtime.db.read() as conn:
        stored = conn.execute(select(func.count()).where(
            predictions.c.model_version_id == result["model_version"])).scalar_one()
    assert stored == 150


@pytest.mark.parametrize("loop", [{"ngrams": False, "encoder": "minilm"}, {}], ids=["off", "hashed-tfidf"])
def test_without_ngrams_the_round_uses_the_embeddings_alone(world: World, loop: dict[str, Any]) -> None:
    """Switched off, or with hashed-tfidf (word n-grams already: the default encoder)."""
    owner, ann, pid, truth = setup(world, loop, n=80)
    run_round(world, owner, pid)
    label(world, pid, ann, truth, 40, random.Random(3))
    result = run_round(world, owner, pid)
    assert result["model"] == "builtin" and "text_model" not in result and result["oof_accuracy"] > 0.8


def test_fine_tuning_under_its_label_minimum_falls_back_to_the_frozen_encoder(world: World) -> None:
    owner, ann, pid, truth = setup(world, {"finetune": True, "encoder": "minilm"}, n=80)
    run_round(world, owner, pid)
    label(world, pid, ann, truth, 40, random.Random(4))
    result = run_round(world, owner, pid)
    n = result["labelled"]
    assert result["text_model"]["finetune"] == {
        "used": False, "fallback": f"{n} labelled items, fine-tuning needs 200", "tuned_on": 0}
    assert result["oof_accuracy"] > 0.8 and result["encoder"].startswith("minilm")


def test_fine_tuning_another_encoder_falls_back_and_says_why(world: World) -> None:
    owner, ann, pid, truth = setup(world, {"finetune": True, "finetune_min_labels": 4}, n=80)
    run_round(world, owner, pid)
    label(world, pid, ann, truth, 40, random.Random(5))
    result = run_round(world, owner, pid)
    assert result["text_model"]["finetune"] == {
        "used": False, "fallback": "fine-tuning needs the minilm encoder", "tuned_on": 0}


def test_bad_fine_tuning_settings_are_refused_by_field(world: World) -> None:
    owner = world.user("o")
    pid = world.project(owner, schema={"fields": [{"name": "text"}], "questions": [
        {"name": "topic", "type": "choice", "options": ["a", "b"]}]})
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers,
                           json={"loop": {"finetune_seconds": 0, "encoder": "multilingual-e5"}})
    assert r.status_code == 422, r.text
    fields = [p["field"] for p in r.json()["error"]["problems"]]
    assert fields == ["loop.finetune_seconds"], r.text


def test_a_round_fine_tunes_minilm_on_part_of_the_labels(world: World) -> None:
    pytest.importorskip("torch", reason="the finetune extra is not installed")
    pytest.importorskip("transformers", reason="the finetune extra is not installed")
    owner, ann, pid, truth = setup(world, {"finetune": True, "encoder": "minilm", "finetune_min_labels": 20,
                                           "finetune_seconds": 5, "validation_items": 10}, n=80)
    run_round(world, owner, pid)
    label(world, pid, ann, truth, 50, random.Random(6))
    result = run_round(world, owner, pid)
    tuned = result["text_model"]["finetune"]
    assert tuned["used"] is True and tuned["fallback"] is None and tuned["steps"] >= 1, tuned
    # never the validation sample; half of the labelled items, per class, drawn from the others
    assert 0 < tuned["tuned_on"] <= result["labelled"] - result["validation_labelled"]
    assert result["oof_accuracy"] > 0.8
