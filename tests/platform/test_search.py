"""Search by meaning on the platform: items like one item (itself first, then its near copy),
items like a text, who may search, and a project without a round to search."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from labelloop.curation import vector_index
from labelloop.services.curation import search as search_service
from labelloop.services.curation.search import SAVED, forget_indexes
from labelloop.store.models import items
from tests.platform.world import User, World

RECORDS: list[dict[str, Any]] = [
    {"id": "a", "text": "an unexpectedly moving portrait of a family falling apart during one long summer"},
    {"id": "a-copy", "text": "an unexpectedly moving portrait of a family falling apart during one long hot summer"},
    {"id": "b", "text": "too long, too loud and too pleased with itself to be the thriller it wants to be"},
    {"id": "c", "text": "every frame of this animated fable looks hand painted and the songs are good"},
    {"id": "d", "text": "the courtroom drama drags until a sharp final act about a missing witness"},
]


def setup(world: World, *, with_round: bool = True) -> tuple[int, dict[str, User], dict[str, int]]:
    forget_indexes()
    users = {role: world.user() for role in ("owner", "manager", "reviewer", "annotator", "outsider")}
    pid = world.project(users["owner"], members={
        "manager": (users["manager"],), "reviewer": (users["reviewer"],), "annotator": (users["annotator"],)})
    world.import_records(users["owner"], pid, RECORDS)
    if with_round:
        r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"},
                              headers=users["owner"].headers)
        assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    with world.runtime.db.read() as conn:
        ids = {r.external_id: r.id for r in conn.execute(
            select(items.c.external_id, items.c.id).where(items.c.project_id == pid))}
    return pid, users, ids


def search(world: World, user: User, pid: int, **params: Any) -> Any:
    return world.client.get(f"/api/projects/{pid}/search", params=params, headers=user.headers)


def test_like_an_item_finds_itself_first_then_its_near_copy(world: World) -> None:
    pid, users, ids = setup(world)
    r = search(world, users["reviewer"], pid, like=ids["a"], k=3)
    assert r.status_code == 200, r.text
    found = r.json()
    assert [f["item_id"] for f in found[:2]] == [ids["a"], ids["a-copy"]]
    assert len(found) == 3
    assert found[0]["similarity"] == 1.0 and found[0]["external_id"] == "a"
    assert found[0]["preview"] == RECORDS[0]["text"]
    assert 0.9 < found[1]["similarity"] < 1.0
    assert found[1]["similarity"] > found[2]["similarity"]
    # k larger than the project: every item once
    r = search(world, users["manager"], pid, like=ids["b"], k=50)
    assert sorted(f["item_id"] for f in r.json()) == sorted(ids.values())


def test_text_search_finds_the_item_with_the_querys_words(world: World) -> None:
    pid, users, ids = setup(world)
    r = search(world, users["owner"], pid, q="animated fable hand painted songs", k=2)
    assert r.status_code == 200, r.text
    assert r.json()[0]["item_id"] == ids["c"]
    r = search(world, users["owner"], pid, q="courtroom witness", k=1)
    assert [f["external_id"] for f in r.json()] == ["d"]


def test_annotators_may_not_search_and_outsiders_do_not_see_the_project(world: World) -> None:
    pid, users, ids = setup(world)
    assert search(world, users["annotator"], pid, like=ids["a"]).status_code == 403
    assert search(world, users["outsider"], pid, like=ids["a"]).status_code == 404
    assert search(world, users["outsider"], pid, q="summer").status_code == 404


def test_exactly_one_of_like_and_q(world: World) -> None:
    pid, users, ids = setup(world, with_round=False)
    assert search(world, users["owner"], pid).status_code == 422
    assert search(world, users["owner"], pid, like=ids["a"], q="summer").status_code == 422


def test_a_project_without_a_round_cannot_be_searched(world: World) -> None:
    pid, users, ids = setup(world, with_round=False)
    r = search(world, users["owner"], pid, q="summer")
    assert r.status_code == 409
    assert "no loop round has embedded this project's items yet" in r.text
    assert search(world, users["owner"], pid, like=ids["a"]).status_code == 409


def test_an_item_not_in_the_project_is_not_found(world: World) -> None:
    pid, users, ids = setup(world)
    r = search(world, users["owner"], pid, like=max(ids.values()) + 1000)
    assert r.status_code == 404, r.text


def test_a_new_round_is_searched_with_its_own_index(world: World) -> None:
    pid, users, ids = setup(world)
    owner = users["owner"]
    world.import_records(owner, pid, [{"id": "c-copy", "text": RECORDS[3]["text"] + " indeed"}])
    with world.runtime.db.read() as conn:
        new_id = conn.execute(select(items.c.id).where(items.c.external_id == "c-copy",
                                                       items.c.project_id == pid)).scalar_one()
    # not embedded by the round the index was built for: not found, and not searchable from
    assert new_id not in [f["item_id"] for f in search(world, owner, pid, like=ids["c"], k=10).json()]
    assert search(world, owner, pid, like=new_id).status_code == 409
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    found = search(world, owner, pid, like=ids["c"], k=2).json()
    assert [f["item_id"] for f in found] == [ids["c"], new_id]


def test_an_hnsw_index_is_saved_loaded_and_deleted_with_the_content(
    world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """From EXACT_BELOW items (here 1) the index is an HNSW graph: built and saved under the data
    folder by the round, loaded from there by a process that has none (not built again); a new
    round's file replaces the old one; erasing an item and deleting the project delete the files."""
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 1)
    monkeypatch.setattr(search_service, "EXACT_BELOW", 1)
    pid, users, ids = setup(world)
    owner, saved = users["owner"], world.runtime.settings.data_dir / SAVED
    (built,) = saved.glob(f"p{pid}-v*.usearch")  # by the round, before any search
    forget_indexes()
    assert [f["item_id"] for f in search(world, owner, pid, like=ids["a"], k=2).json()] == [ids["a"], ids["a-copy"]]
    (first,) = saved.glob(f"p{pid}-v*.usearch")
    assert first == built
    forget_indexes()  # as another worker, or a restarted server

    def not_again(*_args: Any) -> None:
        raise AssertionError("built again instead of loaded")

    with monkeypatch.context() as m:
        m.setattr(search_service, "_build", not_again)
        assert [f["item_id"] for f in search(world, owner, pid, like=ids["a"], k=2).json()] == [ids["a"], ids["a-copy"]]
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    assert search(world, owner, pid, like=ids["b"]).status_code == 200
    (second,) = saved.glob(f"p{pid}-v*.usearch")
    assert second != first
    r = world.client.post(f"/api/projects/{pid}/erasure", json={"items": [ids["d"]]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert list(saved.glob(f"p{pid}-v*.usearch")) == []
    # the embedding cache went too: a new round embeds the items left, and its index is saved
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    found = search(world, owner, pid, like=ids["b"], k=10).json()
    assert sorted(f["item_id"] for f in found) == sorted(v for k, v in ids.items() if k != "d")
    assert len(list(saved.glob(f"p{pid}-v*.usearch"))) == 1
    assert world.client.delete(f"/api/projects/{pid}", headers=owner.headers).status_code == 204
    assert list(saved.glob("*.usearch")) == []


def test_a_round_stands_when_its_search_index_cannot_be_saved(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_service, "EXACT_BELOW", 1)

    def disk_full(*_args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(search_service, "_index", disk_full)
    pid, users, _ids = setup(world)  # asserts the round succeeded
    r = world.client.get(f"/api/projects/{pid}/loop/rounds", headers=users["owner"].headers)
    assert r.status_code == 200 and len(r.json()) == 1, r.text
