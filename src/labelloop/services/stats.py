"""Project progress: how many items are done, in progress and untouched."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select

from labelloop.services.policy import Action, Actor, access
from labelloop.store.models import answers, assignments, items, published_in


@dataclass(frozen=True)
class ProjectStatus:
    project_id: int
    items: int
    done: int
    in_progress: int
    untouched: int
    answers: int
    answers_needed: int
    leased: int
    skipped: int
    annotators: int

    @property
    def percent_done(self) -> float:
        """Answers given of answers needed. A project without items has done nothing (0, not 100);
        one whose items need no answers (all auto-labelled) is done."""
        if not self.items:
            return 0.0
        return 100.0 * self.answers / self.answers_needed if self.answers_needed else 100.0


def project_status(conn: Connection, actor: Actor, project_id: int) -> ProjectStatus:
    access(conn, actor, project_id, Action.view_status)
    done = items.c.answer_count >= items.c.needed
    row = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((done, 1), else_=0)), 0),
            func.coalesce(func.sum(case((~done & (items.c.reserved > 0), 1), else_=0)), 0),
            # not done and never handed out (an auto-labelled item needs 0 answers: done, not this)
            func.coalesce(func.sum(case((~done & (items.c.reserved == 0), 1), else_=0)), 0),
            func.coalesce(func.sum(items.c.answer_count), 0),
            func.coalesce(func.sum(items.c.needed), 0),
            func.coalesce(func.sum(items.c.reserved - items.c.answer_count), 0),
        ).where(published_in(project_id))
    ).one()
    skipped = conn.execute(
        select(func.count()).where(
            assignments.c.project_id == project_id, assignments.c.state == "skipped"
        )
    ).scalar_one()
    annotators = conn.execute(
        select(func.count(func.distinct(answers.c.user_id))).where(answers.c.project_id == project_id)
    ).scalar_one()
    total, n_done, in_progress, untouched, n_answers, needed, leased = (int(v) for v in row)
    return ProjectStatus(project_id, total, n_done, in_progress, untouched, n_answers, needed, leased,
                         int(skipped), int(annotators))
