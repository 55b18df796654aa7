"""Whether an actor may have a server-side helper (the segmenter, segment.py; the tracker,
video/tracker.py) work on an item: a reviewer or above on any item of the project; an annotator only
on an item handed to them (leased, or submitted and still theirs to revise), and not while paused."""

from __future__ import annotations

from sqlalchemy import Connection, select

from labelloop.errors import Forbidden
from labelloop.services.policy import Action, Actor, ProjectAccess
from labelloop.services.quality.trust import standing
from labelloop.store.models import assignments

HELD = ("leased", "submitted")


def holds_item(conn: Connection, acc: ProjectAccess, actor: Actor, project_id: int, item_id: int) -> bool:
    """True when *actor* may work on the item (see the module docstring); Forbidden when paused."""
    if acc.allows(Action.review, actor):
        return True
    assert actor.user_id is not None  # only the operator has no id, and it is an admin
    if standing(conn, project_id, actor.user_id).paused:
        raise Forbidden("you are paused in this project")
    held = conn.execute(select(assignments.c.state).where(
        assignments.c.item_id == item_id, assignments.c.user_id == actor.user_id,
        assignments.c.project_id == project_id)).scalar()
    return held in HELD
