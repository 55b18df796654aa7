"""Annotators' standing in a project: gold record, skill estimate, automatic pause.

Answers on gold items are scored the moment they are submitted (shape questions by F1 against
the gold objects: services/quality/shape_gold.py; typed transcripts by their word error rate against
the gold transcript: services/quality/transcript_gold.py). Once an annotator has answered
`trust_min_gold` gold items and the upper credible bound of their accuracy falls below
`trust_min_accuracy`, they are paused: they get no more tasks, and (by default) their answers
stop counting towards consensus. Managers can lift a pause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.errors import Forbidden, NotFound
from labelloop.quality.classification.posterior import accuracy_upper_bound
from labelloop.schema import LabelSchema
from labelloop.services import audit
from labelloop.services.policy import PROJECT_AND_ROLE, Action, Actor, ProjectAccess, access, check
from labelloop.services.quality import shape_gold
from labelloop.services.quality.settings import QualitySettings, quality_settings
from labelloop.services.quality.transcript_gold import transcript_matches, typed_transcripts
from labelloop.store.models import annotator_quality, memberships, projects, utcnow

# Skill assumed for an annotator the project knows nothing about yet: the mean of a Beta(7, 3)
# prior, which gold answers then move (a fresh annotator counts, but less than a proven one).
SKILL_PRIOR = (7.0, 3.0)


@dataclass(frozen=True)
class Standing:
    gold_answered: int = 0
    gold_correct: int = 0
    skill: float | None = None
    paused: bool = False
    paused_reason: str | None = None

    @property
    def skill_estimate(self) -> float:
        """The project-wide estimate if there is one, else the gold record under the prior."""
        if self.skill is not None:
            return self.skill
        a, b = SKILL_PRIOR
        return (a + self.gold_correct) / (a + b + self.gold_answered)


_STANDING = select(annotator_quality).where(
    annotator_quality.c.project_id == bindparam("pid"), annotator_quality.c.user_id == bindparam("uid")
)


def standing(conn: Connection, project_id: int, user_id: int) -> Standing:
    row = conn.execute(_STANDING, {"pid": project_id, "uid": user_id}).first()
    if row is None:
        return Standing()
    return Standing(row.gold_answered, row.gold_correct, row.skill, row.paused, row.paused_reason)


def standings(conn: Connection, project_id: int) -> dict[int, Standing]:
    """Standing of every annotator the project knows something about."""
    rows = conn.execute(select(annotator_quality).where(annotator_quality.c.project_id == project_id))
    return {r.user_id: Standing(r.gold_answered, r.gold_correct, r.skill, r.paused, r.paused_reason)
            for r in rows}


def _not_paused(s: Standing) -> Standing:
    if s.paused:
        raise Forbidden(f"you are paused in this project: {s.paused_reason or 'ask a manager'}")
    return s


# The project, the caller's role and their standing in one query: the annotator's hot path.
_ACCESS_AND_STANDING = (
    PROJECT_AND_ROLE.add_columns(
        annotator_quality.c.gold_answered, annotator_quality.c.gold_correct,
        annotator_quality.c.skill.label("aq_skill"), annotator_quality.c.paused.label("aq_paused"),
        annotator_quality.c.paused_reason.label("aq_reason"),
    ).outerjoin(
        annotator_quality,
        (annotator_quality.c.project_id == projects.c.id)
        & (annotator_quality.c.user_id == bindparam("uid")),
    )
)


def worker_access(conn: Connection, actor: Actor, project_id: int) -> tuple[ProjectAccess, Standing]:
    """`access(..., work_tasks)` and the caller's standing (paused callers are refused)."""
    row = conn.execute(_ACCESS_AND_STANDING, {"uid": actor.user_id, "pid": project_id}).first()
    acc = check(row, actor, project_id, Action.work_tasks)
    assert row is not None
    s = Standing() if row.gold_answered is None else Standing(
        row.gold_answered, row.gold_correct, row.aq_skill, row.aq_paused, row.aq_reason)
    return acc, _not_paused(s)


def _upsert(conn: Connection, project_id: int, user_id: int, values: dict[str, Any]) -> None:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    row = {"project_id": project_id, "user_id": user_id, "gold_answered": 0, "gold_correct": 0,
           "paused": False, "updated_at": utcnow(), **values}
    stmt = insert(annotator_quality).values(**row)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["project_id", "user_id"], set_={**values, "updated_at": row["updated_at"]}
    ))


def gold_correct(
    gold: dict[str, Any], answer: dict[str, Any], schema: LabelSchema | None = None,
    settings: QualitySettings | None = None,
) -> bool:
    """An answer is right on gold when it matches every question the gold answer settles; with the
    schema, a shape question matches when its F1 against the gold objects reaches the project's
    `gold_shape_score` (services/quality/shape_gold.py), a typed transcript when its word error rate
    against the gold transcript is at most `gold_max_wer` (services/quality/transcript_gold.py)."""
    s = settings or QualitySettings()
    typed = typed_transcripts(schema)
    if any(not transcript_matches(answer.get(n), gold[n], s.gold_max_wer) for n in typed if n in gold):
        return False
    rest = {n: v for n, v in gold.items() if n not in typed} if typed else gold
    return shape_gold.gold_correct(rest, answer, schema, shape_f1=s.gold_shape_score)


def record_gold_answer(
    conn: Connection, project_id: int, user_id: int, correct: bool, settings: QualitySettings
) -> Standing:
    """Count a gold answer and pause the annotator if they are now credibly below the bar."""
    before = standing(conn, project_id, user_id)
    answered, right = before.gold_answered + 1, before.gold_correct + int(correct)
    values: dict[str, Any] = {"gold_answered": answered, "gold_correct": right}
    bar = settings.trust_min_accuracy
    if (
        bar is not None and not before.paused and answered >= settings.trust_min_gold
        and accuracy_upper_bound(right, answered, credibility=settings.trust_credibility) < bar
    ):
        values["paused"] = True
        values["paused_reason"] = (
            f"gold accuracy {right}/{answered} is credibly below {bar:.0%}"
        )
    _upsert(conn, project_id, user_id, values)
    return Standing(answered, right, before.skill, values.get("paused", before.paused),
                    values.get("paused_reason", before.paused_reason))


def set_skills(conn: Connection, project_id: int, skills: dict[int, float]) -> None:
    for user_id, skill in skills.items():
        _upsert(conn, project_id, user_id, {"skill": float(skill)})


def set_paused(
    conn: Connection, actor: Actor, project_id: int, user_id: int, paused: bool, reason: str | None = None
) -> Standing:
    """A manager pauses an annotator, or lifts a pause."""
    access(conn, actor, project_id, Action.edit_members)
    member = conn.execute(select(memberships.c.user_id).where(
        memberships.c.project_id == project_id, memberships.c.user_id == user_id)).first()
    if member is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    _upsert(conn, project_id, user_id, {
        "paused": paused,
        "paused_reason": (reason or f"paused by {actor.username}") if paused else None,
    })
    audit.record(conn, actor, "annotator.pause" if paused else "annotator.resume", project_id=project_id,
                 object_type="user", object_id=user_id, details={"reason": reason})
    return standing(conn, project_id, user_id)


def project_settings(project_row: Any) -> QualitySettings:
    return quality_settings(project_row.quality_settings)
