"""Helpers the platform tests of shape consensus share (test_image_quality.py,
test_video_consensus.py): run the quality recompute, read the stored consensus rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from labelloop.store.models import consensus, items
from tests.platform.world import User, World


def recompute(world: World, owner: User, pid: int) -> dict[str, Any]:
    """Run the project's quality recompute to the end; its result."""
    r = world.client.post(f"/api/projects/{pid}/quality/recompute", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    return dict(r.json()["result"])


def consensus_rows(world: World, pid: int) -> dict[str, Any]:
    """External id -> the item's stored consensus row."""
    with world.runtime.db.read() as conn:
        ids = {r.id: r.external_id for r in conn.execute(select(items).where(items.c.project_id == pid))}
        return {ids[r.item_id]: r for r in conn.execute(select(consensus).where(consensus.c.project_id == pid))}
