"""Helpers the platform tests of media items share (test_audio_items.py, test_video_items.py): a
project with members, the problems of a refused request, the items listed, a blob's URL and the
rows of a table."""

from __future__ import annotations

import io
from typing import Any

import httpx
from sqlalchemy import func, select

from labelloop.store.models import items, project_blobs
from tests.platform.world import User, World


def media_project(world: World, schema: dict[str, Any], **members: User) -> tuple[User, int]:
    """A new owner and their project with *schema*; each keyword a role and its one member."""
    owner = world.user()
    return owner, world.project(owner, schema=schema, members={role: (u,) for role, u in members.items()})


def problems(r: httpx.Response) -> list[dict[str, Any]]:
    """The problems of a 422 answer (asserting it is one)."""
    assert r.status_code == 422, r.text
    found: list[dict[str, Any]] = r.json()["error"]["problems"]
    return found


def listed(world: World, owner: User, pid: int) -> dict[str, dict[str, Any]]:
    """The project's items as the owner lists them, by external id."""
    r = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers)
    assert r.status_code == 200, r.text
    return {i["external_id"]: i for i in r.json()}


def url(pid: int, digest: str, variant: str | None = None) -> str:
    """The API path of a blob (or of one of its variants)."""
    return f"/api/projects/{pid}/blobs/{digest}" + (f"?variant={variant}" if variant else "")


def count(world: World, table: Any) -> int:
    """How many rows *table* holds."""
    with world.runtime.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def assert_nothing_imported(world: World, owner: User, pid: int, facts: Any, before: int) -> None:
    """A refused archive left no item and no blob in the project, and no temporary file; *facts*
    (the kind's blob table, e.g. blob_audio) gained at most the good file's row (*before*: its
    count before the import)."""
    assert listed(world, owner, pid) == {}
    with world.runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(project_blobs)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(items)).scalar_one() == 0
    # The good file's rows may stay (content-addressed, readable by nobody); no bad file has any.
    assert count(world, facts) <= before + 1
    assert list((world.runtime.settings.blob_dir / "tmp").iterdir()) == []


def black_mpeg4(container: str) -> bytes:
    """Three black 32x32 frames of MPEG-4 Part 2 video in *container* ("avi", "mp4"): a real video
    that is no accepted kind of video (AVI) or no audio (an MP4 without sound)."""
    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream: Any = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height = 32, 32
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
