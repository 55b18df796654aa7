"""Helpers the platform tests of media items share (test_audio_items.py, test_video_items.py): a
project with members, the problems of a refused request, the items listed, a blob's URL and the
rows of a table."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

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
