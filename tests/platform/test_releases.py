"""Dataset releases (#17 §3): manifest and card, immutability, splits, diff, the Hugging Face
folder, and who may release. Runs on SQLite and PostgreSQL (conftest.py)."""

from __future__ import annotations

import hashlib
import hmac
import io
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sqlalchemy import insert, select, update

from labelloop.services.curation import releases
from labelloop.services.curation.agreement import FIELDS
from labelloop.services.curation.splits import SPLITS, assign_splits, parse_ratios
from labelloop.services.loop.rounds import AUTO
from labelloop.services.policy import Actor
from labelloop.services.quality.consensus import INCREMENTAL, REVIEW
from labelloop.store.models import (
    answers,
    consensus,
    items,
    model_versions,
    projects,
    release_keys,
    utcnow,
)
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": ["pos", "neg", "neu"]}],
}
# External id -> (annotator 1's answer, annotator 2's answer, consensus, confidence)
VOTED = {"c1": ("pos", "pos", "pos", 0.9), "c2": ("neg", "neg", "neg", 0.9), "c3": ("pos", "pos", "pos", 0.9),
         "c4": ("neu", "neu", "neu", 0.8), "c5": ("neg", "neg", "neg", 0.9), "c6": ("pos", "neg", "pos", 0.6)}


def _answer(conn: Any, pid: int, item_id: int, user: User, value: str, source: str = "human") -> None:
    conn.execute(insert(answers).values(
        project_id=pid, item_id=item_id, user_id=user.id, value={"sentiment": value},
        idempotency_key=str(uuid.uuid4()), source=source, created_at=utcnow()))


def _consensus(conn: Any, pid: int, item_id: int, value: str, conf: float, method: str,
               final: bool = False) -> None:
    conn.execute(insert(consensus).values(
        item_id=item_id, project_id=pid, value={"sentiment": value}, confidence=conf,
        confidences={"sentiment": conf}, method=method, final=final, updated_at=utcnow()))


def _project(world: World) -> tuple[int, User, User, User, User, dict[str, int]]:
    """c1-c6 settled by two annotators' consensus, r1 decided by a reviewer, g1 gold, m1 and m2
    auto-labelled by a model certified at lower bound 0.9, u1 unlabelled; c2 flagged by the loop."""
    owner, ann1, ann2, rev = world.user(), world.user(), world.user(), world.user()
    pid = world.project(owner, schema=SCHEMA, members={"annotator": (ann1, ann2), "reviewer": (rev,)})
    names = [*VOTED, "r1", "g1", "m1", "m2", "u1"]
    world.import_records(owner, pid, [{"id": n, "text": f"text of {n}"} for n in names])
    with world.runtime.db.write() as conn:
        ids = {r.external_id: r.id for r in conn.execute(select(items).where(items.c.project_id == pid))}
        for name, (a, b, settled, conf) in VOTED.items():
            _answer(conn, pid, ids[name], ann1, a)
            _answer(conn, pid, ids[name], ann2, b)
            _consensus(conn, pid, ids[name], settled, conf, INCREMENTAL)
        _answer(conn, pid, ids["r1"], ann1, "neg")
        _answer(conn, pid, ids["r1"], rev, "neu", source=REVIEW)
        _consensus(conn, pid, ids["r1"], "neu", 1.0, REVIEW, final=True)
        conn.execute(update(items).where(items.c.id == ids["g1"]).values(gold={"sentiment": "pos"}))
        conn.execute(insert(model_versions).values(
            project_id=pid, question="sentiment", encoder="hashed", classes=["pos", "neg", "neu"],
            metrics={"autolabelled": 2, "autolabel_lower_bound": 0.9},
            created_at=utcnow() - timedelta(minutes=1)))
        _consensus(conn, pid, ids["m1"], "pos", 0.97, AUTO)
        _consensus(conn, pid, ids["m2"], "neg", 0.95, AUTO)
        conn.execute(update(items).where(items.c.id == ids["c2"]).values(label_issue="model_disagrees"))
    return pid, owner, ann1, ann2, rev, ids


def _release(world: World, owner: User, pid: int, name: str, **body: Any) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/releases", json={"name": name, **body}, headers=owner.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _table(world: World, owner: User, pid: int, name: str, file: str) -> list[dict[str, Any]]:
    r = world.client.get(f"/api/projects/{pid}/releases/{name}/files/{file}", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == f'"{hashlib.sha256(r.content).hexdigest()}"'
    rows: list[dict[str, Any]] = pq.read_table(io.BytesIO(r.content)).to_pylist()
    return rows


def test_manifest_and_card_are_exact(world: World) -> None:
    pid, owner, ann1, ann2, rev, _ = _project(world)
    made = _release(world, owner, pid, "v1", split=None)
    assert made["item_count"] == 10
    with world.runtime.db.read() as conn:
        key = bytes.fromhex(conn.execute(select(release_keys.c.key)
                                         .where(release_keys.c.project_id == pid)).scalar_one())

    def alias(u: User) -> str:
        return "a-" + hmac.new(key, str(u.id).encode(), hashlib.sha256).hexdigest()[:16]

    pair = sorted([alias(ann1), alias(ann2)])
    assert pair[0] != pair[1] and all(ann1.name not in a and ann2.name not in a for a in pair)
    rows = {r["external_id"]: r for r in _table(world, owner, pid, "v1", "items.parquet")}
    assert sorted(rows) == sorted([*VOTED, "r1", "g1", "m1", "m2"])  # u1 has no label
    for name, (_, _, settled, conf) in VOTED.items():
        assert rows[name] == {
            "external_id": name, "content_hash": rows[name]["content_hash"], "split": "train",
            "label": f'{{"sentiment":"{settled}"}}', "decided_by": "consensus", "method": INCREMENTAL,
            "confidence": conf, "autolabel_bound": None, "model_version": None, "annotators": pair,
            "reviewer": None}
    assert rows["r1"] | {"content_hash": None} == {
        "external_id": "r1", "content_hash": None, "split": "train", "label": '{"sentiment":"neu"}',
        "decided_by": "review", "method": REVIEW, "confidence": 1.0, "autolabel_bound": None,
        "model_version": None, "annotators": [alias(ann1)], "reviewer": alias(rev)}
    assert rows["g1"]["decided_by"] == "gold" and rows["g1"]["label"] == '{"sentiment":"pos"}'
    assert (rows["g1"]["method"], rows["g1"]["confidence"], rows["g1"]["annotators"]) == (None, None, [])
    with world.runtime.db.read() as conn:
        version = conn.execute(select(model_versions.c.id).where(model_versions.c.project_id == pid)).scalar_one()
        hashes = {r.external_id: r.content_hash for r in conn.execute(
            select(items.c.external_id, items.c.content_hash).where(items.c.project_id == pid))}
    assert all(rows[n]["content_hash"] == hashes[n] for n in rows)
    for name, label, conf in (("m1", "pos", 0.97), ("m2", "neg", 0.95)):
        assert rows[name] | {"content_hash": None} == {
            "external_id": name, "content_hash": None, "split": "train",
            "label": f'{{"sentiment":"{label}"}}', "decided_by": "auto-label", "method": AUTO,
            "confidence": conf, "autolabel_bound": 0.9, "model_version": version, "annotators": [],
            "reviewer": None}

    got = world.client.get(f"/api/projects/{pid}/releases/v1", headers=owner.headers).json()
    card = got["card"]
    quality = world.client.get(f"/api/projects/{pid}/quality", headers=owner.headers).json()
    (sentiment,) = quality["questions"]
    assert card["agreement"]["questions"] == [{k: sentiment[k] for k in FIELDS}]
    assert sentiment["percent_agreement"] == pytest.approx(5 / 6)  # c6's two answers differ
    assert sentiment["alpha_low"] is not None and sentiment["alpha_high"] is not None
    assert {k: v for k, v in card.items() if k not in ("agreement", "schema")} == {
        "project": card["project"], "release": "v1", "items": 10, "unlabelled_left_out": 1,
        "splits": {"train": 10, "validation": 0, "test": 0},
        "split_options": {"split": None, "stratify": None, "group_by": None, "seed": 0, "slice": None},
        "class_balance": {"sentiment": {"all": {"neg": 3, "neu": 2, "pos": 5},
                                        "train": {"neg": 3, "neu": 2, "pos": 5}, "validation": {}, "test": {}}},
        "decided_by": {"gold": 1, "review": 1, "auto-label": 2, "consensus": 6},
        "share_labelled_by_models": 0.2,
        "mean_confidence": pytest.approx((0.9 * 4 + 0.8 + 0.6 + 1.0 + 0.97 + 0.95) / 9),
        "annotators": {"count": 2, "answers": {alias(ann1): 7, alias(ann2): 6}},
        "source_licenses": {"not stated": 10}, "media_manifests": {},
        "known_issues": {"label_error_flags": 1,
                         "flagged_items": [{"external_id": "c2", "reasons": ["model_disagrees"]}]},
    }
    with world.runtime.db.read() as conn:
        stored = conn.execute(select(projects.c.label_schema).where(projects.c.id == pid)).scalar_one()
    assert card["schema"] == stored
    assert [o["value"] for o in card["schema"]["questions"][0]["options"]] == ["pos", "neg", "neu"]
    names = {f["name"] for f in got["files"]}
    assert names == {"items.parquet", "train.parquet", "card.json", "card.md"}
    markdown = world.client.get(f"/api/projects/{pid}/releases/v1/files/card.md", headers=owner.headers).text
    assert "| auto-label | 2 |" in markdown and "- c2: model_disagrees" in markdown
    assert ann1.name not in markdown and rev.name not in markdown
    train = {r["external_id"]: r for r in _table(world, owner, pid, "v1", "train.parquet")}
    assert train["r1"] == {"external_id": "r1", "text": "text of r1", "label": '{"sentiment":"neu"}',
                           "sentiment": "neu"}


def test_a_release_never_changes(world: World) -> None:
    pid, owner, *_ = _project(world)
    _release(world, owner, pid, "v1")
    again = world.client.post(f"/api/projects/{pid}/releases", json={"name": "v1"}, headers=owner.headers)
    assert again.status_code == 409 and "already has a release 'v1'" in again.text
    listed = world.client.get(f"/api/projects/{pid}/releases", headers=owner.headers).json()
    assert [r["name"] for r in listed] == ["v1"]
    files = {f["name"]: f for f in world.client.get(f"/api/projects/{pid}/releases/v1",
                                                    headers=owner.headers).json()["files"]}
    path = world.runtime.blobs.local_path(files["train.parquet"]["sha256"])
    assert path is not None
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    r = world.client.get(f"/api/projects/{pid}/releases/v1/files/train.parquet", headers=owner.headers)
    assert r.status_code == 409
    assert "file train.parquet does not match its SHA-256" in r.json()["error"]["message"]
    assert world.client.get(f"/api/projects/{pid}/releases/v1/files/card.json",
                            headers=owner.headers).status_code == 200
    r = world.client.get(f"/api/projects/{pid}/releases/diff", params={"from": "v1", "to": "v1"},
                         headers=owner.headers)
    assert r.status_code == 200  # the diff reads items.parquet, untouched


def test_splits_are_deterministic_stratified_and_keep_groups_whole() -> None:
    keys = [f"item-{i:04d}" for i in range(1000)]
    labels = ["a" if i % 4 else "b" for i in range(1000)]
    first = assign_splits(keys, ratios=(80, 10, 10), seed=7, strata=labels)
    assert np.array_equal(first, assign_splits(keys, ratios=(80, 10, 10), seed=7, strata=labels))
    shuffled = np.random.default_rng(0).permutation(1000)
    again = assign_splits([keys[i] for i in shuffled], ratios=(80, 10, 10), seed=7,
                          strata=[labels[i] for i in shuffled])
    assert np.array_equal(again, first[shuffled])  # the order items come in changes nothing
    assert not np.array_equal(first, assign_splits(keys, ratios=(80, 10, 10), seed=8, strata=labels))
    lab = np.array(labels)
    assert np.bincount(first[lab == "a"], minlength=3).tolist() == [600, 75, 75]
    assert np.bincount(first[lab == "b"], minlength=3).tolist() == [200, 25, 25]
    groups = {i: i // 10 for i in range(0, 600)}  # 60 groups of ten
    split = assign_splits(keys, ratios=(80, 10, 10), seed=3, groups=groups)
    for g in range(60):
        assert len(set(split[g * 10:(g + 1) * 10].tolist())) == 1, g
    counts = np.bincount(split, minlength=3)
    assert abs(counts[0] - 800) <= 10 and abs(counts[1] - 100) <= 10 and abs(counts[2] - 100) <= 10
    assert parse_ratios("70/20/10") == (70, 20, 10)
    with pytest.raises(Exception, match="80/10/10"):
        parse_ratios("80/20")


def test_release_splits_by_seed_and_groups(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    world.import_records(owner, pid, [{"id": f"i{n:02d}", "text": f"t{n}"} for n in range(40)])
    with world.runtime.db.write() as conn:
        ids = {r.external_id: r.id for r in conn.execute(select(items).where(items.c.project_id == pid))}
        for n, iid in enumerate(ids.values()):
            _consensus(conn, pid, iid, ("pos", "neg")[n % 2], 0.9, INCREMENTAL)
    actor = Actor(owner.id, owner.name)
    groups = {ids[f"i{n:02d}"]: n // 8 for n in range(40)}  # five groups of eight
    made = [releases.create_release(world.runtime.db, world.runtime.blobs, actor, pid, f"g{k}",
                                    split=(60, 20, 20), groups=groups, seed=11) for k in range(2)]
    assert made[0]["manifest_sha256"] != made[1]["manifest_sha256"]  # names differ, so do manifests
    one, two = (_table(world, owner, pid, f"g{k}", "items.parquet") for k in range(2))
    assert [r["split"] for r in one] == [r["split"] for r in two]
    by_name = {r["external_id"]: r["split"] for r in one}
    for g in range(5):
        assert len({by_name[f"i{n:02d}"] for n in range(g * 8, g * 8 + 8)}) == 1
    assert sorted(by_name.values()).count("train") == 24
    strat = releases.create_release(world.runtime.db, world.runtime.blobs, actor, pid, "s",
                                    split=(50, 25, 25), stratify="label", seed=1)
    card = world.client.get(f"/api/projects/{pid}/releases/s", headers=owner.headers).json()["card"]
    assert strat["item_count"] == 40
    assert card["class_balance"]["sentiment"] == {
        "all": {"neg": 20, "pos": 20}, "train": {"neg": 10, "pos": 10},
        "validation": {"neg": 5, "pos": 5}, "test": {"neg": 5, "pos": 5}}


def test_diff_names_added_removed_and_relabelled(world: World) -> None:
    pid, owner, _, _, _, ids = _project(world)
    _release(world, owner, pid, "v1", split=None)
    with world.runtime.db.write() as conn:
        conn.execute(update(consensus).where(consensus.c.item_id == ids["c6"])
                     .values(value={"sentiment": "neg"}))
        conn.execute(update(items).where(items.c.id == ids["g1"]).values(gold=None))
        _consensus(conn, pid, ids["u1"], "neu", 0.7, INCREMENTAL)
    _release(world, owner, pid, "v2", split=None)
    r = world.client.get(f"/api/projects/{pid}/releases/diff", params={"from": "v1", "to": "v2"},
                         headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "from": "v1", "to": "v2", "counts": {"added": 1, "removed": 1, "relabelled": 1},
        "added": ["u1"], "removed": ["g1"],
        "relabelled": [{"external_id": "c6", "from": {"sentiment": "pos"}, "to": {"sentiment": "neg"}}],
    }


def test_hugging_face_folder_loads(world: World, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    pid, owner, *_ = _project(world)
    _release(world, owner, pid, "v1", split=[60, 20, 20], seed=5)
    with world.runtime.db.read() as conn:
        splits = releases.export_hf(conn, Actor(owner.id, owner.name), pid, "v1", world.runtime.blobs,
                                    tmp_path / "hf")
    assert splits == list(SPLITS)
    loaded = datasets.load_from_disk(str(tmp_path / "hf"))
    manifest = _table(world, owner, pid, "v1", "items.parquet")
    for split in SPLITS:
        want = sorted((r["external_id"], r["label"]) for r in manifest if r["split"] == split)
        rows = loaded[split]
        assert sorted(zip(rows["external_id"], rows["label"], strict=True)) == want
        assert rows.column_names == ["external_id", "text", "label", "sentiment"]
    assert sum(len(loaded[s]) for s in SPLITS) == 10
    assert {r["external_id"]: r["sentiment"] for s in SPLITS for r in loaded[s]}["r1"] == "neu"


def test_only_managers_release_and_read_releases(world: World) -> None:
    pid, owner, ann1, _, rev, _ = _project(world)
    for who in (ann1, rev):
        r = world.client.post(f"/api/projects/{pid}/releases", json={"name": "x"}, headers=who.headers)
        assert r.status_code == 403, r.text
    _release(world, owner, pid, "v1")
    for who in (ann1, rev):
        for url in ("", "/v1", "/v1/files/card.json"):
            assert world.client.get(f"/api/projects/{pid}/releases{url}", headers=who.headers).status_code == 403
    outsider = world.user()
    assert world.client.get(f"/api/projects/{pid}/releases", headers=outsider.headers).status_code == 404
    bad = world.client.post(f"/api/projects/{pid}/releases", json={"name": "../x"}, headers=owner.headers)
    assert bad.status_code == 422


def test_cli_release_diff_and_export(world: World, tmp_path: Path, database_url: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from labelloop.cli.main import app
    from labelloop.config import get_settings

    pid, *_ = _project(world)
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

        out = run("dataset", "release", str(pid), "--name", "v1", "--split", "60/20/20", "--stratify", "label")
        assert "Release v1: 10 items" in out and "items.parquet" in out
        assert "already has a release 'v1'" in run("dataset", "release", str(pid), "--name", "v1", code=1)
        run("dataset", "release", str(pid), "--name", "v2", "--filter", "label=sentiment:pos", "--split", "none")
        out = run("dataset", "diff", str(pid), "v1", "v2")
        # v2 keeps the items whose consensus is pos: c1, c3, c6, m1 (g1's gold is no consensus)
        assert "v1 -> v2: 0 added, 6 removed, 0 relabelled" in out
        assert "bad filter" in run("dataset", "release", str(pid), "--name", "v3", "--filter", "nope", code=1)
        out = run("dataset", "export-hf", str(pid), "v1", str(tmp_path / "hf"))
        assert (tmp_path / "hf" / "dataset_dict.json").is_file() and "train, validation, test" in out
    finally:
        get_settings.cache_clear()


def test_a_project_without_labels_releases_nothing(world: World, tmp_path: Path) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    world.import_records(owner, pid, [{"id": "x", "text": "hello"}])
    made = _release(world, owner, pid, "empty", stratify="label", group_by="exact")
    assert made["item_count"] == 0
    card = world.client.get(f"/api/projects/{pid}/releases/empty", headers=owner.headers).json()["card"]
    assert (card["items"], card["unlabelled_left_out"], card["splits"]) == (
        0, 1, {"train": 0, "validation": 0, "test": 0})
    assert _table(world, owner, pid, "empty", "train.parquet") == []
    r = world.client.get(f"/api/projects/{pid}/releases/nope", headers=owner.headers)
    assert r.status_code == 404 and r.json()["error"]["message"] == "release 'nope' not found"
    r = world.client.get(f"/api/projects/{pid}/releases/empty/files/other.bin", headers=owner.headers)
    assert r.status_code == 404 and "card.json" in r.text
