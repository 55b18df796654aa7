"""The embedding map (#17 §2): the latest round's embeddings on a plane (PCA, checked against
scikit-learn), each point's label, confidence, model disagreement and first annotator read from
the database, a seeded sample under a limit, items the round never embedded counted, and only
managers may draw it. Runs on SQLite and PostgreSQL (conftest.py)."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sqlalchemy import select, update

from labelloop.services.curation.embedding_map import forget_maps, pca_2d
from labelloop.services.curation.round_vectors import round_embeddings
from labelloop.store.models import answers, consensus, items, predictions
from tests.platform.test_loop_flow import SCHEMA, WORDS, corpus, text
from tests.platform.world import User, World

N = 40


def setup(world: World, *, with_round: bool = True) -> tuple[int, dict[str, User], dict[str, int]]:
    forget_maps()
    people = {role: world.user() for role in ("owner", "manager", "reviewer", "annotator", "outsider")}
    pid = world.project(people["owner"], schema=SCHEMA, members={
        "manager": (people["manager"],), "reviewer": (people["reviewer"],), "annotator": (people["annotator"],)})
    truth = corpus(N, seed=3)
    rng = random.Random(5)
    world.import_records(people["owner"], pid, [{"id": k, "text": text(v, rng)} for k, v in truth.items()])
    if with_round:
        wrong = 0
        while (t := world.next(people["annotator"], pid)).status_code == 200:
            task = t.json()
            right = truth[task["external_id"]]
            given = next(w for w in WORDS if w != right) if wrong < 4 and rng.random() < 0.2 else right
            wrong += given != right
            assert world.submit(people["annotator"], pid, task["item_id"], {"topic": given}).status_code == 201
        r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"},
                              headers=people["owner"].headers)
        assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    with world.runtime.db.read() as conn:
        ids = {r.external_id: int(r.id) for r in conn.execute(
            select(items.c.external_id, items.c.id).where(items.c.project_id == pid))}
    return pid, people, ids


def get_map(world: World, user: User, pid: int, **params: Any) -> Any:
    return world.client.get(f"/api/projects/{pid}/map", params=params, headers=user.headers)


def test_the_map_is_the_pca_of_the_rounds_embeddings_with_each_points_colours(world: World) -> None:
    pid, people, ids = setup(world)
    r = get_map(world, people["manager"], pid)
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["ids"] == sorted(ids.values())
    assert (m["items"], m["sampled"], m["shown"], m["missing"], m["limit"]) == (N, N, N, 0, 20_000)
    assert m["question"] == "topic" and m["encoder"]
    # the coordinates are scikit-learn's PCA of the round's vectors (up to each axis's sign)
    with world.runtime.db.read() as conn:
        rows = conn.execute(select(items.c.id, items.c.data).where(items.c.project_id == pid)
                            .order_by(items.c.id)).all()
    _enc, vectors, _ = round_embeddings(world.runtime.db, pid, rows, ["text"], None, world.runtime.settings.data_dir)
    assert vectors is not None
    oracle = PCA(n_components=2, svd_solver="full").fit(vectors)
    expected = oracle.transform(vectors)
    got = np.column_stack([m["x"], m["y"]])
    for axis in range(2):
        sign = np.sign(expected[:, axis] @ got[:, axis])
        np.testing.assert_allclose(got[:, axis], sign * expected[:, axis], atol=2e-4)
    np.testing.assert_allclose(m["explained_variance"], oracle.explained_variance_ratio_, atol=1e-4)
    # each point's colours are what the database says
    with world.runtime.db.read() as conn:
        settled = {r.item_id: r for r in conn.execute(select(consensus).where(consensus.c.project_id == pid))}
        predicted = {r.item_id: r.value["topic"] for r in conn.execute(
            select(predictions).where(predictions.c.model_version_id == m["model_version"]))}
        who = {r.item_id: r.user_id for r in conn.execute(select(answers).where(answers.c.project_id == pid))}
    assert predicted, "the round predicted every item"
    disagreeing = 0
    for k, item_id in enumerate(m["ids"]):
        c = settled[item_id]
        assert m["label"][k] == c.value["topic"]
        assert m["confidence"][k] == round(c.confidence, 4)
        verdict = "agrees" if predicted[item_id] == c.value["topic"] else "disagrees"
        disagreeing += verdict == "disagrees"
        assert m["disagreement"][k] == verdict
        assert m["annotator"][k] == who[item_id] == people["annotator"].id
    assert m["annotators"] == {str(people["annotator"].id): people["annotator"].name}
    # the colours are read afresh on each request: a model answer changed is a disagreement now
    first = m["ids"][0]
    other = next(w for w in WORDS if w != settled[first].value["topic"])
    with world.runtime.db.write() as conn:
        conn.execute(update(predictions).where(predictions.c.model_version_id == m["model_version"],
                                               predictions.c.item_id == first).values(value={"topic": other}))
    again = get_map(world, people["manager"], pid).json()
    assert again["disagreement"][0] == "disagrees"
    assert again["disagreement"].count("disagrees") == disagreeing + (m["disagreement"][0] == "agrees")
    assert again["x"] == m["x"]


def test_a_limit_draws_the_same_sample_every_time_and_new_items_are_counted_missing(world: World) -> None:
    pid, people, ids = setup(world)
    world.import_records(people["owner"], pid, [{"id": "late1", "text": "a match"}, {"id": "late2", "text": "bread"}])
    full = get_map(world, people["owner"], pid).json()
    assert (full["items"], full["sampled"], full["shown"], full["missing"]) == (N + 2, N + 2, N, 2)
    assert set(full["ids"]) == set(ids.values())  # the late items have no embedding yet
    small = get_map(world, people["owner"], pid, limit=10).json()
    assert small["sampled"] == 10 and small["shown"] + small["missing"] == 10
    assert set(small["ids"]) <= set(ids.values())
    assert get_map(world, people["owner"], pid, limit=10).json()["ids"] == small["ids"]
    forget_maps()  # made afresh: the same seed, the same sample
    assert get_map(world, people["owner"], pid, limit=10).json()["ids"] == small["ids"]
    assert get_map(world, people["owner"], pid, limit=20_001).status_code == 422


def test_only_managers_see_the_map(world: World) -> None:
    pid, people, _ids = setup(world)
    assert get_map(world, people["owner"], pid).status_code == 200
    assert get_map(world, people["manager"], pid).status_code == 200
    assert get_map(world, people["reviewer"], pid).status_code == 403
    assert get_map(world, people["annotator"], pid).status_code == 403
    assert get_map(world, people["outsider"], pid).status_code == 404
    assert world.client.get(f"/api/projects/{pid}/map").status_code == 401


def test_a_project_without_a_round_has_no_map(world: World) -> None:
    pid, people, _ids = setup(world, with_round=False)
    r = get_map(world, people["manager"], pid)
    assert r.status_code == 409
    assert "no loop round has embedded this project's items yet" in r.text


def test_pca_2d_known_answers() -> None:
    # points on a line y = 2x in 3-D: all the variance on the first axis, none on the second
    x = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [3.0, 6.0, 0.0]])
    xy, explained = pca_2d(x)
    np.testing.assert_allclose(xy[:, 0], [-np.sqrt(5), 0, np.sqrt(5)], atol=1e-6)
    np.testing.assert_allclose(xy[:, 1], [0, 0, 0], atol=1e-6)
    assert explained == (1.0, 0.0)
    # the sign is fixed by the largest loading: the same picture for the negated axis's data
    xy2, _ = pca_2d(x[::-1])
    np.testing.assert_allclose(xy2[:, 0], xy[::-1, 0], atol=1e-6)
    empty, none = pca_2d(np.zeros((0, 4)))
    assert empty.shape == (0, 2) and none == (0.0, 0.0)
