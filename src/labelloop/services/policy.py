"""Who may do what: the one place where roles are checked.

Global admins may do everything. Everyone else acts through a project role; each action
names the least role that may perform it, and roles are ordered
annotator < reviewer < manager < owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from labelloop.errors import Forbidden, NotFound
from labelloop.store.models import memberships, projects


class Role(IntEnum):
    annotator = 1
    reviewer = 2
    manager = 3
    owner = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name]
        except KeyError:
            raise ValueError(f"unknown role {name!r}; roles: {', '.join(r.name for r in cls)}") from None


class Action(Enum):
    """Each action and the least role that may do it.

    The value is a (name, role) pair, not the role alone: members with equal values would be
    aliases of the first, and a refusal would name the wrong action.
    """

    view_project = "view_project", Role.annotator
    work_tasks = "work_tasks", Role.annotator  # next task, submit, skip, renew a lease
    view_own_answers = "view_own_answers", Role.annotator
    view_blobs = "view_blobs", Role.annotator  # stored files (images) the project's items show
    view_items = "view_items", Role.reviewer  # item contents with everyone's answers, but no gold
    view_all_answers = "view_all_answers", Role.reviewer
    view_status = "view_status", Role.reviewer
    review = "review", Role.reviewer  # the review queue: flag items, decide them for good
    view_quality = "view_quality", Role.manager  # agreement and annotator reports
    edit_project = "edit_project", Role.manager
    import_items = "import_items", Role.manager
    edit_items = "edit_items", Role.manager  # gold answers, priorities
    view_gold = "view_gold", Role.manager
    export = "export", Role.manager
    view_members = "view_members", Role.manager
    edit_members = "edit_members", Role.manager
    view_jobs = "view_jobs", Role.manager
    generate = "generate", Role.manager  # the model server's settings and generation jobs
    delete_project = "delete_project", Role.owner

    @property
    def least_role(self) -> Role:
        role: Role = self.value[1]
        return role

    @property
    def label(self) -> str:
        """How a message names the action: `edit project`."""
        return self.name.replace("_", " ")


@dataclass(frozen=True)
class Actor:
    """Whoever makes a request: a user, or the local operator (CLI) acting as admin."""

    user_id: int | None
    username: str
    is_admin: bool = False

    @classmethod
    def operator(cls) -> Actor:
        return cls(user_id=None, username="(operator)", is_admin=True)


@dataclass(frozen=True)
class ProjectAccess:
    """A project as the actor may see it: its row and the actor's role there."""

    project: Any  # the projects row
    role: Role | None  # None for an admin who is not a member

    def allows(self, action: Action, actor: Actor) -> bool:
        return actor.is_admin or (self.role is not None and self.role >= action.least_role)


# Built once: this runs on every request that touches a project.
PROJECT_AND_ROLE = (
    select(projects, memberships.c.role)
    .select_from(
        projects.outerjoin(
            memberships,
            and_(
                memberships.c.project_id == projects.c.id,
                memberships.c.user_id == bindparam("uid"),
            ),
        )
    )
    .where(projects.c.id == bindparam("pid"))
)


def access(conn: Connection, actor: Actor, project_id: int, action: Action) -> ProjectAccess:
    """The project and the actor's role, or NotFound / Forbidden.

    Non-members get NotFound rather than Forbidden, so project ids reveal nothing.
    """
    row = conn.execute(PROJECT_AND_ROLE, {"uid": actor.user_id, "pid": project_id}).first()
    return check(row, actor, project_id, action)


def check(row: Any, actor: Actor, project_id: int, action: Action) -> ProjectAccess:
    """The decision of `access` on a row of (project columns..., role) fetched by the caller."""
    if row is None or (row.role is None and not actor.is_admin):
        raise NotFound(f"project {project_id} not found")
    result = ProjectAccess(row, Role[row.role] if row.role else None)
    if not result.allows(action, actor):  # the one place a role is compared with an action
        raise Forbidden(f"your role in this project does not allow: {action.label}")
    return result


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only administrators may do this")


def may_grant(actor: Actor, granter_role: Role | None, role: Role) -> bool:
    """Managers manage annotators, reviewers and managers; only owners and admins make owners."""
    if actor.is_admin:
        return True
    return granter_role is not None and (granter_role == Role.owner or role < Role.owner)
