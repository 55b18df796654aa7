"""`labelloop loop prelabel`: the detector pre-label job from the command line, with its progress,
its result in words, and a clear refusal (exit 1, naming what to install or set) when it cannot run."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

from labelloop.store.models import jobs, model_versions
from tests.platform.pictures import encoded, zipped
from tests.platform.stub_http import JsonHandler, serving
from tests.platform.test_cli import cli, run
from tests.platform.world import World

__all__ = ["cli"]

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "photo", "type": "image"}],
    "questions": [{"name": "things", "type": "bbox", "target": "photo", "labels": ["thing", "other"]}],
}
BOX = [4, 3, 34, 23]


class FixedDetector(JsonHandler):
    """A team's detector over HTTP: one "thing" at BOX in every image."""

    images: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FixedDetector.images += [item["id"] for item in body["items"]]
        found = [[{"label": "thing", "box": BOX, "score": 0.9}] for _ in body["items"]]
        self.reply_json({"detections": found})


@pytest.fixture
def detector_url() -> Iterator[str]:
    FixedDetector.images = []
    with serving(FixedDetector) as url:
        yield url


def photo(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return encoded(Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)))


def image_project(world: World, name: str, images: int, loop: dict[str, Any]) -> tuple[Any, Any, int]:
    owner, ann = world.user(f"{name}-owner"), world.user(f"{name}-ann")
    pid = world.project(owner, schema=SCHEMA, name=name, members={"annotator": (ann,)})
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": loop})
    assert r.status_code == 200, r.text
    r = world.upload(owner, pid, zipped({f"p{i}.png": photo(i) for i in range(images)}), "photos.zip")
    assert r.status_code == 201, r.text
    return owner, ann, pid


def job_rows(world: World, pid: int) -> list[Any]:
    with world.runtime.db.read() as conn:
        return list(conn.execute(select(jobs).where(jobs.c.project_id == pid, jobs.c.kind == "prelabel")))


def versions(world: World, pid: int) -> int:
    with world.runtime.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(model_versions)
                                .where(model_versions.c.project_id == pid)).scalar_one())


def test_prelabel_runs_the_detector_as_a_job_and_annotators_see_its_boxes(
    cli: CliRunner, world: World, detector_url: str
) -> None:
    _, ann, pid = image_project(world, "Street", 10, {"detector": detector_url, "suggest_min_accuracy": None})

    out = run(cli, "loop", "prelabel", "Street")
    assert sorted(FixedDetector.images) == sorted(f"p{i}.png" for i in range(10))
    assert "detecting objects" in out and "10/10" in out  # the progress bar, at its end
    assert "10 of 10 items pre-labelled (10 detected now, 0 kept), 10 boxes" in out
    assert "left out: 0 detections of classes the question lacks, 0 items whose image is not a stored file" in out
    assert "held-out box F1: not measured" in out
    [job] = job_rows(world, pid)
    # The job is recorded as the API's is, its progress at the end: every image of the batches.
    assert (job.status, job.progress_done, job.progress_total) == ("succeeded", 10, 10)
    assert f"model {job.result['model_version']}:" in out

    task = world.next(ann, pid).json()
    assert task["prelabel"]["value"] == {"things": [{"label": "thing", "box": BOX}]}

    # Again with the same settings: every image keeps its boxes, nothing is sent to the detector.
    FixedDetector.images = []
    out = run(cli, "loop", "prelabel", str(pid))
    assert "10 of 10 items pre-labelled (0 detected now, 10 kept)" in out and FixedDetector.images == []


def test_without_the_images_models_extra_the_built_in_detector_is_refused_by_name(
    cli: CliRunner, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, pid = image_project(world, "Offline", 2, {"detector": "coco"})
    monkeypatch.setitem(sys.modules, "cv2", None)  # `import cv2` fails, as without the extra
    out = run(cli, "loop", "prelabel", "Offline", code=1)
    assert "failed: the built-in detector is not installed" in out
    assert "loop.detector:" in out and "pip install 'labelloop[images-models]'" in out
    [job] = job_rows(world, pid)
    assert job.status == "failed" and versions(world, pid) == 0  # nothing written


def test_a_project_without_a_detector_or_without_boxes_is_told_what_to_set(cli: CliRunner, world: World) -> None:
    image_project(world, "Unset", 1, {})
    out = run(cli, "loop", "prelabel", "Unset", code=1)
    assert "failed: no detector is set" in out and "loop.detector: set loop.detector: coco" in out

    owner = world.user("text-owner")
    text = world.project(owner, name="Words")
    r = world.client.patch(f"/api/projects/{text}", headers=owner.headers, json={"loop": {"detector": "coco"}})
    assert r.status_code == 200, r.text
    out = run(cli, "loop", "prelabel", "Words", code=1)
    assert "failed: nothing to pre-label" in out and "loop.detector_question: the schema has no bbox question" in out

    assert "Usage" in run(cli, "loop", "prelabel", "--help")
    assert "project 'nope' not found" in run(cli, "loop", "prelabel", "nope", code=1)
