"""Duplicate groups on the platform: the job finds exact and near-duplicate text groups (and says
why a method was skipped), managers list them, annotators may not, and keeping one item of a
group takes the others out of the queue until the group is restored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFilter
from sqlalchemy import select, update
from typer.testing import CliRunner

from labelloop.cli.main import app
from labelloop.config import get_settings
from labelloop.services.curation.duplicates import groups_of
from labelloop.store.models import item_groups, items
from tests.platform import pictures
from tests.platform.pictures import encoded, stored_in, zipped
from tests.platform.world import User, World

BASE = "an unexpectedly moving portrait of a family falling apart during one long hot summer in the city"
RECORDS: list[dict[str, Any]] = [
    {"id": "a", "text": BASE},
    {"id": "a-typo", "text": BASE.replace("portrait", "portrayt")},
    {"id": "a-cut", "text": " ".join(BASE.split()[:-2])},
    {"id": "b", "text": "too long, too loud and too pleased with itself to be the thriller it wants to be"},
    {"id": "b-same", "text": "too long, too loud and too pleased with itself to be the thriller it wants to be"},
    {"id": "c", "text": "every frame of this animated fable looks hand painted and the songs are good"},
    {"id": "symbols", "text": "!!! ??? ..."},
]


def setup(world: World) -> tuple[int, User, User, User, dict[str, int]]:
    owner, manager, annotator = world.user(), world.user(), world.user()
    pid = world.project(owner, members={"manager": (manager,), "annotator": (annotator,)})
    world.import_records(owner, pid, RECORDS)
    with world.runtime.db.read() as conn:
        ids = {r.external_id: r.id for r in conn.execute(
            select(items.c.external_id, items.c.id).where(items.c.project_id == pid))}
    return pid, owner, manager, annotator, ids


def find(world: World, user: User, pid: int, **body: Any) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/duplicates", params={"wait": "true"}, json=body or None,
                          headers=user.headers)
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["status"] == "succeeded", job
    result: dict[str, Any] = job["result"]
    return result


def test_the_job_finds_groups_and_says_why_methods_were_skipped(world: World) -> None:
    pid, _owner, manager, _annotator, ids = setup(world)
    result = find(world, manager, pid)
    assert result["items"] == 7
    assert result["text"]["groups"] == 2
    assert result["text"]["grouped_items"] == 5
    assert result["text"]["skipped"] == {"no words (only punctuation or symbols)": 1}
    assert result["text"]["skipped_examples"] == [
        {"item_id": ids["symbols"], "reason": "no words (only punctuation or symbols)"}]
    assert result["exact"] == {"pairs": 1, "groups": 1, "grouped_items": 2, "skipped": {},
                               "skipped_examples": []}
    assert result["image"] == {"skipped": "the schema has no image field"}
    assert result["semantic"] == {"skipped": "no loop round has embedded this project's items yet"}

    r = world.client.get(f"/api/projects/{pid}/duplicates", params={"method": "text"}, headers=manager.headers)
    assert r.status_code == 200, r.text
    groups = r.json()
    assert [[i["external_id"] for i in g["items"]] for g in groups] == [["a", "a-typo", "a-cut"], ["b", "b-same"]]
    assert [g["group_id"] for g in groups] == [ids["a"], ids["b"]]
    first = groups[0]["items"][0]
    assert first["preview"] == BASE and first["set_aside"] is False
    assert groups[1]["items"][0]["score"] == 1.0

    with world.runtime.db.read() as conn:
        assert groups_of(conn, pid, "text") == {ids[k]: ids["a"] for k in ("a", "a-typo", "a-cut")} | {
            ids["b"]: ids["b"], ids["b-same"]: ids["b"]}
        assert groups_of(conn, pid, "exact") == {ids["b"]: ids["b"], ids["b-same"]: ids["b"]}


def test_a_rerun_replaces_a_methods_groups(world: World) -> None:
    pid, owner, _manager, _annotator, ids = setup(world)
    find(world, owner, pid, methods=["text"])
    result = find(world, owner, pid, methods=["text"], text_threshold=1.0)
    assert result["text"]["groups"] == 1  # only the identical pair reaches 1.0 now
    with world.runtime.db.read() as conn:
        rows = conn.execute(select(item_groups.c.item_id, item_groups.c.method).where(
            item_groups.c.project_id == pid)).all()
    assert sorted(rows) == sorted([(ids["b"], "text"), (ids["b-same"], "text")])


def test_bad_parameters_are_refused_naming_the_field(world: World) -> None:
    pid, owner, *_ = setup(world)
    r = world.client.post(f"/api/projects/{pid}/duplicates", json={"methods": ["sound"]}, headers=owner.headers)
    assert r.status_code == 422
    assert "methods" in r.text


def test_annotators_and_strangers_may_not_see_or_act_on_groups(world: World) -> None:
    pid, _owner, manager, annotator, ids = setup(world)
    find(world, manager, pid, methods=["text"])
    stranger = world.user()
    for user, status in ((annotator, 403), (stranger, 404)):
        assert world.client.get(f"/api/projects/{pid}/duplicates", headers=user.headers).status_code == status
        assert world.client.post(f"/api/projects/{pid}/duplicates", headers=user.headers).status_code == status
        r = world.client.post(f"/api/projects/{pid}/duplicates/{ids['a']}/keep", json={"item_id": ids["a"]},
                              headers=user.headers)
        assert r.status_code == status, r.text
        r = world.client.delete(f"/api/projects/{pid}/duplicates/{ids['a']}/keep", headers=user.headers)
        assert r.status_code == status, r.text


def queue_of(world: World, user: User, pid: int) -> list[str]:
    """Every external id the annotator is handed, taking them all (overlap 1: nobody else will)."""
    handed = []
    while (r := world.next(user, pid)).status_code == 200:
        t = r.json()
        handed.append(t["external_id"])
        world.submit(user, pid, t["item_id"], {"sentiment": "pos"})
    return handed


def test_keeping_one_takes_the_others_out_of_the_queue_until_restored(world: World) -> None:
    pid, owner, manager, annotator, ids = setup(world)
    find(world, manager, pid, methods=["text"])
    group = ids["a"]
    r = world.client.post(f"/api/projects/{pid}/duplicates/{group}/keep", json={"item_id": ids["a-cut"]},
                          headers=manager.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"group_id": group, "method": "text", "kept": ids["a-cut"],
                        "set_aside": sorted([ids["a"], ids["a-typo"]])}
    listed = world.client.get(f"/api/projects/{pid}/duplicates", headers=manager.headers).json()
    assert {i["external_id"]: i["set_aside"] for i in listed[0]["items"]} == {
        "a": True, "a-typo": True, "a-cut": False}

    r = world.client.post(f"/api/projects/{pid}/duplicates/{group}/keep", json={"item_id": ids["c"]},
                          headers=manager.headers)
    assert r.status_code == 422 and "not in text group" in r.text
    # A new overlap reopens every item but those set aside.
    r = world.client.patch(f"/api/projects/{pid}", json={"overlap": 2}, headers=owner.headers)
    assert r.status_code == 200, r.text

    assert sorted(queue_of(world, annotator, pid)) == ["a-cut", "b", "b-same", "c", "symbols"]

    r = world.client.delete(f"/api/projects/{pid}/duplicates/{group}/keep", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"group_id": group, "restored": sorted([ids["a"], ids["a-typo"]])}
    assert sorted(queue_of(world, annotator, pid)) == ["a", "a-typo"]
    r = world.client.delete(f"/api/projects/{pid}/duplicates/{group}/keep", headers=owner.headers)
    assert r.status_code == 404


def test_keep_on_an_unknown_group_is_not_found(world: World) -> None:
    pid, owner, _manager, _annotator, ids = setup(world)
    r = world.client.post(f"/api/projects/{pid}/duplicates/{ids['c']}/keep", json={"item_id": ids["c"]},
                          headers=owner.headers)
    assert r.status_code == 404


def picture(seed: int, size: int = 256) -> Image.Image:
    """A smooth random picture (blurred noise): its low frequencies carry it, as a photo's do."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(size // 16, size // 16, 3), dtype=np.uint8)
    return Image.fromarray(arr).resize((size, size), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(4))


def test_near_duplicate_images_from_the_stored_files(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=pictures.SCHEMA)
    files = {f"p{k}.png": encoded(picture(k)) for k in range(4)}
    files["p0-small.jpg"] = encoded(picture(0).resize((128, 128)), "JPEG", quality=60)
    files["broken.png"] = encoded(picture(9))
    r = world.upload(owner, pid, zipped(files), "photos.zip")
    assert r.status_code == 201, r.text
    garbage = stored_in(world.runtime, pid, b"not an image at all")
    with world.runtime.db.write() as conn:  # a stored file that no longer decodes
        conn.execute(update(items).where(items.c.project_id == pid, items.c.external_id == "broken.png")
                     .values(data={"photo": f"blob:{garbage}"}))
        ids = {r.external_id: r.id for r in conn.execute(
            select(items.c.external_id, items.c.id).where(items.c.project_id == pid))}
    result = find(world, owner, pid, methods=["image", "text"])
    assert result["text"] == {"skipped": "the schema has no text field"}
    assert result["image"]["groups"] == 1
    [example] = result["image"]["skipped_examples"]
    assert example["item_id"] == ids["broken.png"]
    assert example["reason"].startswith("the image does not decode: cannot identify image file")
    assert sum(result["image"]["skipped"].values()) == 1
    group = min(ids["p0.png"], ids["p0-small.jpg"])
    with world.runtime.db.read() as conn:
        assert groups_of(conn, pid, "image") == {ids["p0.png"]: group, ids["p0-small.jpg"]: group}


def test_semantic_groups_from_the_latest_rounds_embeddings(world: World) -> None:
    pid, owner, _manager, _annotator, ids = setup(world)
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    result = find(world, owner, pid, methods=["semantic"], semantic_threshold=0.999)
    assert result["semantic"]["groups"] == 1  # only the identical texts have the same vector
    with world.runtime.db.read() as conn:
        assert groups_of(conn, pid, "semantic") == {ids["b"]: ids["b"], ids["b-same"]: ids["b"]}


def test_the_cli_finds_and_lists_groups(world: World, tmp_path: Path, database_url: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pid, *_ = setup(world)
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["dataset", "duplicates", str(pid), "--method", "text"])
        listed = CliRunner().invoke(app, ["dataset", "duplicates", str(pid), "--method", "exact", "--list"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "│ text   │ 2      │ 5     │ no words (only punctuation or symbols): 1 │" in result.output
    assert "a-typo" in result.output and "b-same" in result.output
    assert listed.exit_code == 0, listed.output
    assert "no exact groups" in listed.output  # listed only: the exact method never ran
