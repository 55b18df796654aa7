"""Slices (#17 §2): saved, named filters of a project's items, and everywhere a filter is: the data
browser, exports, the review queue, queue priorities and releases. Bad input names the field and
changes nothing. Runs on SQLite and PostgreSQL (conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from labelloop.services.quality.consensus import INCREMENTAL
from labelloop.store.models import consensus, items, slices, utcnow
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": ["pos", "neg"]}],
}
# external id -> (text, consensus label or None, metadata language)
ROWS = {
    "a": ("a warm and funny film", "pos", "en"),
    "b": ("a cold and tedious film", "neg", "en"),
    "c": ("un film chaleureux", "pos", "fr"),
    "d": ("un film ennuyeux", "neg", "fr"),
    "e": ("a film nobody labelled yet", None, "en"),
}


def setup(world: World) -> tuple[int, dict[str, User], dict[str, int]]:
    people = {role: world.user() for role in ("owner", "manager", "reviewer", "annotator", "outsider")}
    pid = world.project(people["owner"], schema=SCHEMA, members={
        "manager": (people["manager"],), "reviewer": (people["reviewer"],), "annotator": (people["annotator"],)})
    world.import_records(people["owner"], pid, [
        {"id": k, "text": t, "meta": {"lang": lang}} for k, (t, _, lang) in ROWS.items()])
    with world.runtime.db.write() as conn:
        ids = {r.external_id: int(r.id) for r in conn.execute(
            select(items.c.external_id, items.c.id).where(items.c.project_id == pid))}
        for ext, (_, label, _) in ROWS.items():
            if label is not None:
                conn.execute(insert(consensus).values(
                    item_id=ids[ext], project_id=pid, value={"sentiment": label}, confidence=0.9,
                    confidences={"sentiment": 0.9}, method=INCREMENTAL, final=False, updated_at=utcnow()))
    return pid, people, ids


def make(world: World, user: User, pid: int, name: str, filt: dict[str, Any]) -> Any:
    return world.client.post(f"/api/projects/{pid}/slices", json={"name": name, "filter": filt},
                             headers=user.headers)


def browse(world: World, user: User, pid: int, **params: Any) -> list[str]:
    r = world.client.get(f"/api/projects/{pid}/items", params=params, headers=user.headers)
    assert r.status_code == 200, r.text
    return [i["external_id"] for i in r.json()]


def problems(r: Any) -> list[tuple[str | None, str]]:
    return [(p.get("field"), p["message"]) for p in r.json()["error"]["problems"]]


def stored(world: World, pid: int) -> list[str]:
    with world.runtime.db.read() as conn:
        return sorted(conn.execute(select(slices.c.name).where(slices.c.project_id == pid)).scalars())


def test_a_slice_is_the_browsers_filter_saved_and_used_by_the_browser(world: World) -> None:
    pid, people, _ids = setup(world)
    r = make(world, people["manager"], pid, "positive", {"label": "sentiment:pos"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["name"] == "positive" and made["filter"] == {"label": "sentiment:pos"}
    assert made["created_by"] == people["manager"].id
    # the browser with ?slice=, alone and narrowed by the browser's own filters
    assert browse(world, people["reviewer"], pid, slice=made["id"]) == ["a", "c"]
    assert browse(world, people["reviewer"], pid, slice=made["id"], meta="lang:fr") == ["c"]
    assert browse(world, people["reviewer"], pid, slice=made["id"], q="chaleureux") == ["c"]
    # reading one slice counts its items now; the list holds every slice by name
    one = world.client.get(f"/api/projects/{pid}/slices/{made['id']}", headers=people["reviewer"].headers)
    assert one.status_code == 200 and one.json()["count"] == 2
    make(world, people["owner"], pid, "french", {"meta": "lang:fr", "status": "open"})
    listed = world.client.get(f"/api/projects/{pid}/slices", headers=people["reviewer"].headers).json()
    assert [s["name"] for s in listed] == ["french", "positive"]
    assert listed[0]["filter"] == {"status": "open", "meta": "lang:fr"}


def test_ids_pick_exactly_those_items_in_the_browser_and_in_a_slice(world: World) -> None:
    pid, people, ids = setup(world)
    chosen = [ids["e"], ids["b"]]
    assert browse(world, people["manager"], pid, ids=",".join(map(str, chosen))) == ["b", "e"]
    r = world.client.post(f"/api/projects/{pid}/slices/preview", json={"filter": {"ids": chosen}},
                          headers=people["reviewer"].headers)
    assert [i["external_id"] for i in r.json()] == ["b", "e"]
    r = make(world, people["manager"], pid, "lasso", {"ids": [ids["e"], ids["b"], ids["b"]]})
    assert r.json()["filter"] == {"ids": sorted(chosen)}
    assert browse(world, people["manager"], pid, slice=r.json()["id"]) == ["b", "e"]
    # more ids than a map holds: refused, naming the field
    r = make(world, people["manager"], pid, "too many", {"ids": list(range(1, 20_002))})
    assert r.status_code == 422 and problems(r) == [("filter.ids", "at most 20000 item ids, not 20001")]


def test_bad_input_names_the_field_and_changes_nothing(world: World) -> None:
    pid, people, _ids = setup(world)
    mgr = people["manager"]
    r = make(world, mgr, pid, "x", {"colour": "red", "label": "sentiment:pos"})
    assert r.status_code == 422
    assert problems(r) == [("filter.colour", "'colour' is not a filter; filters: status, q, annotator, label, "
                            "meta, review, label_issue, ids")]
    r = make(world, mgr, pid, "x", {"status": "maybe"})
    assert r.status_code == 422 and problems(r) == [("filter.status", "'maybe': one of open, in_progress, done")]
    r = make(world, mgr, pid, "x", {"label": "no colon"})
    assert r.status_code == 422 and problems(r) == [("filter.label", "write it as name:value")]
    r = make(world, mgr, pid, "x", {"ids": [1, "two"]})
    assert r.status_code == 422 and problems(r) == [("filter.ids[1]", "'two' is not an item id")]
    r = make(world, mgr, pid, "123", {})
    assert r.status_code == 422 and problems(r)[0][0] == "name"
    assert stored(world, pid) == []
    # a name taken is a conflict; the first slice stays as it was
    first = make(world, mgr, pid, "pos", {"label": "sentiment:pos"}).json()
    assert make(world, mgr, pid, "pos", {"label": "sentiment:neg"}).status_code == 409
    r = world.client.patch(f"/api/projects/{pid}/slices/{first['id']}", json={"filter": {"review": "later"}},
                           headers=mgr.headers)
    assert r.status_code == 422 and problems(r) == [("filter.review", "'later': one of pending, done")]
    assert world.client.get(f"/api/projects/{pid}/slices/{first['id']}",
                            headers=mgr.headers).json()["filter"] == {"label": "sentiment:pos"}
    # an unknown slice wherever one is used: 422 naming `slice`
    for path in ("items", "review/next", "review/count", "export"):
        r = world.client.get(f"/api/projects/{pid}/{path}", params={"slice": 10**9}, headers=mgr.headers)
        assert r.status_code == 422, (path, r.text)
        assert problems(r) == [("slice", f"{10**9!r} is not a slice of this project")], path
    # a slice of another project is unknown here
    other = world.project(people["owner"], schema=SCHEMA, members={"manager": (mgr,)})
    theirs = make(world, mgr, other, "theirs", {}).json()
    r = world.client.get(f"/api/projects/{pid}/items", params={"slice": theirs["id"]}, headers=mgr.headers)
    assert r.status_code == 422
    assert world.client.get(f"/api/projects/{pid}/slices/{theirs['id']}", headers=mgr.headers).status_code == 404
    # the browser's query goes through the same parser
    r = world.client.get(f"/api/projects/{pid}/items", params={"label": "nocolon"}, headers=mgr.headers)
    assert r.status_code == 422 and problems(r) == [("label", "write it as name:value")]


def test_who_may_read_and_write_slices(world: World) -> None:
    pid, people, _ids = setup(world)
    made = make(world, people["manager"], pid, "pos", {"label": "sentiment:pos"}).json()
    url = f"/api/projects/{pid}/slices"
    assert make(world, people["reviewer"], pid, "mine", {}).status_code == 403
    assert make(world, people["annotator"], pid, "mine", {}).status_code == 403
    assert make(world, people["outsider"], pid, "mine", {}).status_code == 404
    assert world.client.get(url, headers=people["reviewer"].headers).status_code == 200
    assert world.client.get(url, headers=people["annotator"].headers).status_code == 403
    assert world.client.get(url, headers=people["outsider"].headers).status_code == 404
    assert world.client.delete(f"{url}/{made['id']}", headers=people["reviewer"].headers).status_code == 403
    assert world.client.post(f"{url}/{made['id']}/priority", json={"priority": 5},
                             headers=people["reviewer"].headers).status_code == 403
    r = world.client.patch(f"{url}/{made['id']}", json={"name": "positive"}, headers=people["owner"].headers)
    assert r.status_code == 200 and r.json()["name"] == "positive"
    assert world.client.delete(f"{url}/{made['id']}", headers=people["manager"].headers).status_code == 204
    assert stored(world, pid) == []
    assert world.client.get(f"{url}/{made['id']}", headers=people["manager"].headers).status_code == 404


def test_queue_priority_of_a_slice_raises_and_lowers_it(world: World) -> None:
    pid, people, _ids = setup(world)
    french = make(world, people["manager"], pid, "french", {"meta": "lang:fr"}).json()
    url = f"/api/projects/{pid}/slices/{french['id']}/priority"

    def priorities() -> dict[str, float]:
        with world.runtime.db.read() as conn:
            return {r.external_id: r.priority for r in conn.execute(
                select(items.c.external_id, items.c.priority).where(items.c.project_id == pid))}

    r = world.client.post(url, json={"priority": 10}, headers=people["manager"].headers)
    assert r.status_code == 200 and r.json() == {"updated": 2}
    assert priorities() == {"a": 0.0, "b": 0.0, "c": 10.0, "d": 10.0, "e": 0.0}
    # the queue serves the slice first
    first = world.next(people["annotator"], pid)
    assert first.status_code == 200 and first.json()["external_id"] in ("c", "d")
    r = world.client.post(url, json={"priority": -12.5, "mode": "add"}, headers=people["manager"].headers)
    assert r.json() == {"updated": 2}
    assert priorities() == {"a": 0.0, "b": 0.0, "c": -2.5, "d": -2.5, "e": 0.0}
    # a bad mode changes nothing
    r = world.client.post(url, json={"priority": 3, "mode": "multiply"}, headers=people["manager"].headers)
    assert r.status_code == 422 and problems(r)[0][0] == "mode"
    assert priorities()["c"] == -2.5


def test_export_takes_a_slice(world: World) -> None:
    pid, people, _ids = setup(world)
    pos = make(world, people["manager"], pid, "positive", {"label": "sentiment:pos"}).json()
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": "jsonl", "slice": pos["id"]},
                         headers=people["manager"].headers)
    assert r.status_code == 200, r.text
    assert [json.loads(line)["id"] for line in r.text.splitlines()] == ["a", "c"]
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": "csv", "slice": pos["id"]},
                         headers=people["manager"].headers)
    assert r.status_code == 200 and len(r.text.strip().splitlines()) == 3  # the header and two rows
    # training data aggregates the whole project: refused, naming the field
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": "dpo", "slice": pos["id"]},
                         headers=people["manager"].headers)
    assert r.status_code == 422 and problems(r) == [(
        "slice", "slice is available for every format but the training data ones (dpo, sft, ratings, "
                 "ratings-parquet, hf), not dpo")]


def test_image_and_audio_datasets_take_a_slice(world: World) -> None:
    from tests.platform.formats import answer_all, export, members, schema
    from tests.platform.pictures import png, zipped
    from tests.platform.sounds import sound

    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    assert world.upload(owner, pid, zipped({f"p{i}.png": png(40, 30, color=(i, 9, 9)) for i in range(4)}),
                        "p.zip").status_code == 201
    answer_all(world, owner, pid, lambda name: {"objects": [{"label": "car", "box": [1, 1, 9, 9]}]})
    listed = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    by_name = {i["external_id"]: i["id"] for i in listed}
    two = make(world, owner, pid, "two", {"ids": [by_name["p1.png"]]}).json()
    coco = export(world, owner, pid, "coco", slice=str(two["id"]), images="refs")
    assert coco.status_code == 200, coco.text
    doc = json.loads(members(coco.content)["annotations/instances.json"])
    assert [i["file_name"] for i in doc["images"]] == ["p1.png"] and len(doc["annotations"]) == 1
    yolo = export(world, owner, pid, "yolo", slice=str(two["id"]), images="include")
    assert sorted(n for n in members(yolo.content) if n.startswith(("images/", "labels/"))) == [
        "images/p1.png", "labels/p1.txt"]

    heard = world.project(owner, schema={
        "fields": [{"name": "clip", "type": "audio"}],
        "questions": [{"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech"],
                       "transcript": True}]})
    assert world.upload(owner, heard, zipped({"a.wav": sound("wav", 1.0), "b.wav": sound("wav", 1.0, hz=330.0)}),
                        "c.zip").status_code == 201
    answer_all(world, owner, heard, lambda name: {"turns": [{"start": 0.0, "end": 0.5, "label": "speech",
                                                             "text": name}]})
    listed = world.client.get(f"/api/projects/{heard}/items", headers=owner.headers).json()
    b_only = make(world, owner, heard, "b only", {"ids": [i["id"] for i in listed if i["external_id"] == "b.wav"]})
    nemo = export(world, owner, heard, "nemo", slice=str(b_only.json()["id"]), images="refs")
    assert nemo.status_code == 200, nemo.text
    lines = [json.loads(x) for x in members(nemo.content)["manifest.jsonl"].decode().splitlines()]
    assert [x["text"] for x in lines] == ["b.wav"]


def test_review_queue_takes_a_slice(world: World) -> None:
    pid, people, ids = setup(world)
    with world.runtime.db.write() as conn:
        conn.execute(update(items).where(items.c.id.in_([ids["a"], ids["d"]])).values(review_state="pending"))
    french = make(world, people["manager"], pid, "french", {"meta": "lang:fr"}).json()
    rev = people["reviewer"]
    whole = world.client.get(f"/api/projects/{pid}/review/next", headers=rev.headers)
    assert whole.json()["item"]["external_id"] == "a"
    sliced = world.client.get(f"/api/projects/{pid}/review/next", params={"slice": french["id"]}, headers=rev.headers)
    assert sliced.json()["item"]["external_id"] == "d"
    assert world.client.get(f"/api/projects/{pid}/review/count", headers=rev.headers).json() == {"pending": 2}
    assert world.client.get(f"/api/projects/{pid}/review/count", params={"slice": french["id"]},
                            headers=rev.headers).json() == {"pending": 1}
    r = world.client.get(f"/api/projects/{pid}/review/next", params={"slice": french["id"], "after": ids["d"]},
                         headers=rev.headers)
    assert r.status_code == 204


def test_cli_release_and_export_take_a_slice(world: World, tmp_path: Path, database_url: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from labelloop.cli.main import app
    from labelloop.config import get_settings

    pid, people, _ids = setup(world)
    make(world, people["manager"], pid, "french", {"meta": "lang:fr"})
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        runner = CliRunner()

        def run(*args: str, code: int = 0) -> str:
            result = runner.invoke(app, list(args), catch_exceptions=False)
            assert result.exit_code == code, result.output
            return result.output

        # c and d are French and labelled: the release holds those two
        assert "Release v1: 2 items" in run("dataset", "release", str(pid), "--name", "v1", "--filter", "french",
                                            "--split", "none")
        out = run("dataset", "release", str(pid), "--name", "v2", "--filter", "german", code=1)
        assert "'german' is no saved slice of this project" in out
        out = run("dataset", "release", str(pid), "--name", "v2", "--filter", "french", "--filter", "review=done",
                  code=1)
        assert "give it alone" in out
        run("export", str(pid), "--slice", "french", "-o", str(tmp_path / "fr.jsonl"))
        lines = (tmp_path / "fr.jsonl").read_text().splitlines()
        assert [json.loads(line)["id"] for line in lines] == ["c", "d"]
    finally:
        get_settings.cache_clear()


def test_the_release_api_takes_a_slice(world: World) -> None:
    pid, people, _ids = setup(world)
    manager = people["manager"]
    sid = make(world, manager, pid, "french", {"meta": "lang:fr"}).json()["id"]

    def release(**body: Any) -> Any:
        return world.client.post(f"/api/projects/{pid}/releases", json={"split": None, **body},
                                 headers=manager.headers)

    for ref in (sid, "french"):
        r = release(name=f"by-{ref}", slice=ref)
        assert r.status_code == 201, r.text
        assert r.json()["item_count"] == 2  # c and d: French and labelled
    r = release(name="v9", slice="german")
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "slice", r.text
    r = release(name="v9", slice=sid, filter={"review": "done"})
    assert r.status_code == 422 and "not both" in r.text, r.text
    assert world.client.get(f"/api/projects/{pid}/releases/v9", headers=manager.headers).status_code == 404


def test_a_slice_is_deleted_with_its_project(world: World) -> None:
    pid, people, _ids = setup(world)
    make(world, people["manager"], pid, "all", {})
    r = world.client.delete(f"/api/projects/{pid}", headers=people["owner"].headers)
    assert r.status_code == 204, r.text
    assert stored(world, pid) == []
