"""Who may do what: the one place where roles are checked.

Global admins may do everything. Everyone else acts through a project role; each action
names the least role that may perform it, and roles are ordered
annotator < reviewer < manager < owner.

An API token carries scopes (`Scope`), which narrow what its user may do and never widen it: an
action needs both the role and its scope. A token without the `admin` scope acts as a user who
is not an administrator, and only a token with it manages the user's own account (tokens,
password), so a leaked narrow token cannot mint a broader or longer-lived one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum, StrEnum
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


class Scope(StrEnum):
    """What an API token may be used for; a browser session and a password sign-in have all four."""

    read = "read"  # see what the roles show: projects, items, answers, quality, jobs, files, exports
    annotate = "annotate"  # work tasks (next, submit, skip, leases, mask proposals) and review; and read
    manage = "manage"  # create and change projects, members, imports, gold, loop rounds; and read
    admin = "admin"  # the user's own account (tokens, password); for administrators, the instance

    @classmethod
    def parse_list(cls, names: str | list[str]) -> frozenset[Scope]:
        """Scopes from `read annotate` / `read,annotate` / a list; ValueError naming an unknown one."""
        items = names.replace(",", " ").split() if isinstance(names, str) else names
        found = set()
        for name in items:
            try:
                found.add(cls(name.strip()))
            except ValueError:
                raise ValueError(
                    f"unknown scope {name!r}; scopes: {', '.join(s.value for s in cls)}"
                ) from None
        if not found:
            raise ValueError(f"at least one scope: {', '.join(s.value for s in cls)}")
        return frozenset(found)

    @staticmethod
    def granted(scopes: frozenset[Scope]) -> frozenset[Scope]:
        """What scopes allow: annotating and managing imply reading (the work needs to see its project)."""
        if Scope.annotate in scopes or Scope.manage in scopes:
            return scopes | {Scope.read}
        return scopes

    @staticmethod
    def text(scopes: frozenset[Scope]) -> str:
        """Space-separated, in the order of the enum: how they are stored and shown."""
        return " ".join(s.value for s in Scope if s in scopes)


ALL_SCOPES: frozenset[Scope] = frozenset(Scope)
# Actions whose scope is not the one their name and role imply (see `Action.scope`).
_SCOPE_EXCEPTIONS: dict[str, Scope] = {
    "export": Scope.read,  # a dataset is read out: a read-only token (a CI job) may take one
    "review": Scope.annotate,
    "reveal": Scope.read,  # seeing an item's personal data unredacted is a read (and is logged)
}


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
    # An item's personal data unredacted; the project's privacy policy may raise it to manager
    # (`may_reveal`).
    reveal = "reveal", Role.reviewer
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
    view_audit = "view_audit", Role.manager  # the project's entries of the audit log
    # GDPR article 17: erase items, a source file, an annotator's work or a data subject's items
    # (services/protection/erasure.py).
    erase = "erase", Role.manager
    delete_project = "delete_project", Role.owner

    @property
    def least_role(self) -> Role:
        role: Role = self.value[1]
        return role

    @property
    def scope(self) -> Scope:
        """The token scope the action needs: views read, a reviewer's work annotates, the rest manages."""
        if self.name in _SCOPE_EXCEPTIONS:
            return _SCOPE_EXCEPTIONS[self.name]
        if self.name.startswith("view_"):
            return Scope.read
        return Scope.annotate if self.least_role <= Role.reviewer else Scope.manage

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
    scopes: frozenset[Scope] = ALL_SCOPES

    @classmethod
    def operator(cls) -> Actor:
        return cls(user_id=None, username="(operator)", is_admin=True)

    @classmethod
    def for_token(cls, user_id: int, username: str, user_is_admin: bool, scopes: frozenset[Scope]) -> Actor:
        """The caller behind a token: an administrator only through a token with the admin scope."""
        return cls(user_id, username, user_is_admin and Scope.admin in scopes, scopes)


@dataclass(frozen=True)
class ProjectAccess:
    """A project as the actor may see it: its row and the actor's role there."""

    project: Any  # the projects row
    role: Role | None  # None for an admin who is not a member

    def allows(self, action: Action, actor: Actor) -> bool:
        by_role = actor.is_admin or (self.role is not None and self.role >= action.least_role)
        return by_role and action.scope in Scope.granted(actor.scopes)


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
    require_scope(actor, action.scope, action.label)
    if not result.allows(action, actor):  # the one place a role is compared with an action
        raise Forbidden(f"your role in this project does not allow: {action.label}")
    return result


def require_scope(actor: Actor, scope: Scope, what: str | None = None) -> None:
    """Forbidden unless the caller's token has `scope` (sessions and the operator have all)."""
    if scope not in Scope.granted(actor.scopes):
        raise Forbidden(
            f"this token's scopes ({Scope.text(actor.scopes)}) do not allow "
            f"{what or 'this'}: it needs the '{scope.value}' scope"
        )


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only administrators may do this (through a token with the 'admin' scope)")


def audit_access(conn: Connection, actor: Actor, project_id: int | None) -> None:
    """Who may read the audit log: admins all of it; a project's managers and owners that
    project's entries (`project_id` given). Annotators and reviewers never: it shows what
    everyone read and answered."""
    if project_id is None:
        if not actor.is_admin:
            raise Forbidden("only administrators may read the whole audit log; managers: name a project")
        return
    access(conn, actor, project_id, Action.view_audit)


def may_reveal(acc: ProjectAccess, actor: Actor, least_role: Role) -> bool:
    """Whether the actor may see the project's personal data unredacted (docs/privacy.md): the
    `reveal` action, at the least role the project's policy names (reviewer or manager). Annotators
    never may, whatever the policy says; admins always may."""
    if not acc.allows(Action.reveal, actor):
        return False
    return actor.is_admin or (acc.role is not None and acc.role >= max(least_role, Role.reviewer))


def require_reveal(acc: ProjectAccess, actor: Actor, least_role: Role) -> None:
    if not may_reveal(acc, actor, least_role):
        raise Forbidden("your role in this project does not allow: reveal personal data")


def may_grant(actor: Actor, granter_role: Role | None, role: Role) -> bool:
    """Managers manage annotators, reviewers and managers; only owners and admins make owners."""
    if actor.is_admin:
        return True
    return granter_role is not None and (granter_role == Role.owner or role < Role.owner)
