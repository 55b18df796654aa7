"""An annotator's own progress in a project: how many items they answered, about how many are left.

Kept off the hot path: the workbench asks for it after an answer is stored, not with every
task. Both counts are index walks bounded by the caller's own work, never a project scan:
`done` and `held` count the caller's assignments (`ix_assignments_holder`), and `left` walks
the partial index of open items (`ix_items_open_queue`) and stops at a cap (`LEFT_CAP`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, bindparam, exists, func, select

from labelloop.errors import Conflict
from labelloop.services.loop.settings import loop_settings
from labelloop.services.policy import Actor
from labelloop.services.quality.trust import worker_access
from labelloop.services.queue.tasks import LEASED, NOT_TAKEN_BY_ME, SUBMITTED
from labelloop.store.models import assignments, items, predictions

# Beyond this many, "more than LEFT_CAP left" says all an annotator needs to know.
LEFT_CAP = 1000


@dataclass(frozen=True)
class Progress:
    done: int  # items the caller answered in this project
    left: int  # items the caller could still get: held now, or open and never taken
    left_capped: bool  # more than `left` are left: the count stopped at the cap, and `left` is the cap


_MINE = (
    select(assignments.c.state, func.count())
    .where(
        assignments.c.user_id == bindparam("uid"),
        assignments.c.project_id == bindparam("pid"),
        assignments.c.state.in_([SUBMITTED, LEASED]),
    )
    .group_by(assignments.c.state)
)
# The next-task query's own filter and order (services/queue/tasks.py), so "left" is what next-task
# would hand out, and both databases walk the same partial index of open items to find it.
_OPEN_FOR_ME = (
    select(items.c.id)
    .where(items.c.project_id == bindparam("pid"), items.c.is_open, NOT_TAKEN_BY_ME)
    .order_by(items.c.priority.desc(), items.c.id)
)
_OPEN_PRELABELLED = _OPEN_FOR_ME.where(exists().where(predictions.c.item_id == items.c.id))


def _count_upto(query: Select[Any]) -> Select[int]:
    """How many rows `query` has, counting no further than the `upto` parameter."""
    return select(func.count()).select_from(query.limit(bindparam("upto")).subquery())


_LEFT = _count_upto(_OPEN_FOR_ME)
_LEFT_PRELABELLED = _count_upto(_OPEN_PRELABELLED)


def my_progress(conn: Connection, actor: Actor, project_id: int, *, cap: int = LEFT_CAP) -> Progress:
    """The caller's own numbers in the project (nobody can ask for someone else's)."""
    uid = actor.user_id
    if uid is None:
        raise Conflict("the operator account does not take tasks")
    acc, _ = worker_access(conn, actor, project_id)
    mine: dict[str, int] = {state: n for state, n in conn.execute(_MINE, {"uid": uid, "pid": project_id})}
    prelabelled = loop_settings(acc.project.loop_settings).prelabels == "require"
    untouched = conn.execute(
        _LEFT_PRELABELLED if prelabelled else _LEFT, {"uid": uid, "pid": project_id, "upto": cap + 1}
    ).scalar_one()
    if untouched > cap:  # a round number reads better than the cap plus what the caller holds
        return Progress(done=mine.get(SUBMITTED, 0), left=cap, left_capped=True)
    return Progress(done=mine.get(SUBMITTED, 0), left=untouched + mine.get(LEASED, 0), left_capped=False)
