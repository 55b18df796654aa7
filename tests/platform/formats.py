"""Helpers of the image-dataset format tests: schemas, projects answered over HTTP, exports, imports."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx
from sqlalchemy import func, select

from labelloop.store.models import items, project_blobs
from tests.platform.world import User, World

SKELETON = {"points": ["head", "left_hand", "right_hand"],
            "edges": [["head", "left_hand"], ["head", "right_hand"]]}


def schema(kind: str, *, attributes: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    question: dict[str, Any] = {"name": "objects", "type": kind, "target": "photo", "labels": ["car", "person"],
                                "attributes": attributes or [], **extra}
    if kind == "keypoints":
        question.setdefault("skeleton", SKELETON)
    return {"fields": [{"name": "photo", "type": "image"}], "questions": [question]}


def answer_all(world: World, user: User, pid: int, value_of: Any) -> dict[str, Any]:
    """Take every task the user gets and answer it with `value_of(external_id)`."""
    given: dict[str, Any] = {}
    while (task := world.next(user, pid)).status_code == 200:
        t = task.json()
        given[t["external_id"]] = value_of(t["external_id"])
        r = world.submit(user, pid, t["item_id"], given[t["external_id"]])
        assert r.status_code == 201, r.text
    return given


def export(world: World, user: User, pid: int, fmt: str, **params: str) -> httpx.Response:
    return world.client.get(f"/api/projects/{pid}/export", params={"format": fmt, **params},
                            headers=user.headers)


def members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert z.testzip() is None
        return {n: z.read(n) for n in z.namelist()}


def imported(world: World, user: User, pid: int, archive: bytes, fmt: str, **params: str) -> httpx.Response:
    return world.upload(user, pid, archive, f"dataset-{fmt}.zip", format=fmt, **params)


def problems(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 422, r.text
    found: list[dict[str, Any]] = r.json()["error"]["problems"]
    return found


def jsonl(world: World, user: User, pid: int) -> dict[str, dict[str, Any]]:
    r = export(world, user, pid, "jsonl")
    assert r.status_code == 200, r.text
    return {row["id"]: row for row in map(json.loads, r.text.splitlines())}


def nothing_kept(world: World, pid: int) -> None:
    """No item (staged or not) and no readable image is left in the project."""
    with world.runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(items).where(items.c.project_id == pid)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(project_blobs)
                            .where(project_blobs.c.project_id == pid)).scalar() == 0
