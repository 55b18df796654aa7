"""Projects: their label schema, queue settings and members."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from labelloop.errors import Conflict, Forbidden, Invalid, NotFound, Problem
from labelloop.schema import LabelSchema, parse_schema
from labelloop.services import audit
from labelloop.services.loop.settings import check_loop_settings, loop_settings
from labelloop.services.policy import Action, Actor, Role, Scope, access, may_grant, require_scope
from labelloop.services.quality.settings import check_quality_settings, initial_needed, quality_settings
from labelloop.store.models import (
    answers,
    duplicate_set_asides,
    items,
    memberships,
    open_when,
    projects,
    users,
    utcnow,
)

MAX_OVERLAP = 100


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    name: str
    description: str
    label_schema: dict[str, Any]
    overlap: int
    lease_seconds: int
    quality: dict[str, Any]  # the quality settings, defaults filled in
    loop: dict[str, Any]  # the learning-loop settings, defaults filled in
    created_at: datetime
    role: str | None  # the caller's role; None for an admin who is not a member


@dataclass(frozen=True)
class MemberInfo:
    user_id: int
    username: str
    role: str


def _info(row: Any, role: Role | str | None) -> ProjectInfo:
    role_name = role.name if isinstance(role, Role) else role
    return ProjectInfo(
        row.id, row.name, row.description, row.label_schema, row.overlap, row.lease_seconds,
        quality_settings(row.quality_settings).model_dump(), loop_settings(row.loop_settings).model_dump(),
        row.created_at, role_name,
    )


@lru_cache(maxsize=512)
def _parse_cached(document: bytes) -> LabelSchema:
    return parse_schema(orjson.loads(document))


def schema_of(document: dict[str, Any]) -> LabelSchema:
    """The parsed schema of a stored document (parsed once per distinct document)."""
    return _parse_cached(orjson.dumps(document, option=orjson.OPT_SORT_KEYS))


def _check_settings(overlap: int | None, lease_seconds: int | None) -> None:
    problems = []
    if overlap is not None and not 1 <= overlap <= MAX_OVERLAP:
        problems.append(Problem(f"must be between 1 and {MAX_OVERLAP}", field="overlap"))
    if lease_seconds is not None and not 1 <= lease_seconds <= 7 * 86400:
        problems.append(Problem("must be between 1 second and 7 days", field="lease_seconds"))
    if problems:
        raise Invalid("invalid project settings", problems)


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise Invalid("invalid project name", [Problem("1 to 200 characters", field="name")])
    return name


def create_project(
    conn: Connection,
    actor: Actor,
    name: str,
    schema: str | bytes | dict[str, Any],
    *,
    description: str = "",
    overlap: int = 1,
    lease_seconds: int = 600,
    quality: dict[str, Any] | None = None,
) -> ProjectInfo:
    """Any user may create a project; its creator becomes its owner."""
    require_scope(actor, Scope.manage, "creating a project")
    name = _check_name(name)
    parsed = parse_schema(schema)
    _check_settings(overlap, lease_seconds)
    settings = check_quality_settings(quality or {}, overlap)
    try:
        row = conn.execute(
            insert(projects)
            .values(
                name=name,
                description=description,
                label_schema=parsed.document,
                overlap=overlap,
                lease_seconds=lease_seconds,
                quality_settings=settings.model_dump(exclude_defaults=True),
                created_by=actor.user_id,
                created_at=utcnow(),
            )
            .returning(projects)
        ).one()
    except IntegrityError:
        raise Conflict(f"a project named {name!r} already exists") from None
    role = None
    if actor.user_id is not None:
        conn.execute(
            insert(memberships).values(
                project_id=row.id, user_id=actor.user_id, role=Role.owner.name, created_at=utcnow()
            )
        )
        role = Role.owner
    audit.record(conn, actor, "project.create", project_id=row.id, object_type="project", object_id=row.id,
                 details={"name": name, "overlap": overlap, "lease_seconds": lease_seconds,
                          "schema_sha256": _digest(parsed.document)})
    return _info(row, role)


def _digest(document: Any) -> str:
    """A schema in the audit log: its SHA-256 (the document itself may be long)."""
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def get_project(conn: Connection, actor: Actor, project_id: int) -> ProjectInfo:
    acc = access(conn, actor, project_id, Action.view_project)
    return _info(acc.project, acc.role)


def find_project(conn: Connection, actor: Actor, ref: str) -> ProjectInfo:
    """A project by id or by name (for the CLI)."""
    if ref.isdigit():
        return get_project(conn, actor, int(ref))
    row = conn.execute(select(projects.c.id).where(projects.c.name == ref)).first()
    if row is None:
        raise NotFound(f"project {ref!r} not found")
    return get_project(conn, actor, row.id)


def list_projects(conn: Connection, actor: Actor) -> list[ProjectInfo]:
    require_scope(actor, Scope.read, "listing projects")
    if actor.is_admin:
        stmt = select(projects, memberships.c.role).outerjoin(
            memberships,
            (memberships.c.project_id == projects.c.id) & (memberships.c.user_id == actor.user_id),
        )
    else:
        stmt = select(projects, memberships.c.role).join(
            memberships,
            (memberships.c.project_id == projects.c.id) & (memberships.c.user_id == actor.user_id),
        )
    return [_info(r, r.role) for r in conn.execute(stmt.order_by(projects.c.id))]


def update_project(
    conn: Connection,
    actor: Actor,
    project_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    overlap: int | None = None,
    lease_seconds: int | None = None,
    schema: str | bytes | dict[str, Any] | None = None,
    quality: dict[str, Any] | None = None,
    loop: dict[str, Any] | None = None,
) -> ProjectInfo:
    """Change settings; `quality` and `loop` keys not given keep their current values."""
    acc = access(conn, actor, project_id, Action.edit_project)
    _check_settings(overlap, lease_seconds)
    old_quality = quality_settings(acc.project.quality_settings)
    new_overlap = overlap if overlap is not None else acc.project.overlap
    new_quality = check_quality_settings(
        {**old_quality.model_dump(exclude_defaults=True), **(quality or {})}, new_overlap
    )
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _check_name(name)
    if description is not None:
        values["description"] = description
    if lease_seconds is not None:
        values["lease_seconds"] = lease_seconds
    if schema is not None:
        answered = conn.execute(
            select(exists().where(answers.c.project_id == project_id))
        ).scalar_one()
        if answered:
            raise Conflict("the schema cannot change once answers exist; create a new project")
        values["label_schema"] = parse_schema(schema).document
    if quality is not None:
        values["quality_settings"] = new_quality.model_dump(exclude_defaults=True)
    if loop is not None:
        current = loop_settings(acc.project.loop_settings).model_dump(exclude_defaults=True)
        values["loop_settings"] = check_loop_settings({**current, **loop}).model_dump(exclude_defaults=True)
    if overlap is not None:
        values["overlap"] = overlap
    needed_before = initial_needed(acc.project.overlap, old_quality)
    needed_now = initial_needed(new_overlap, new_quality)
    renamed = values.get("name", acc.project.name) != acc.project.name
    resets_needed = needed_now != needed_before or new_quality.adaptive != old_quality.adaptive
    if renamed or resets_needed:
        # PostgreSQL: an import committing meanwhile reads the row FOR SHARE to settle its own
        # rows' `needed` (services/importing/writer.py): it is waited for, and waits for this.
        # The lock is taken first, and as strong as the update needs: a new name (a unique key)
        # waits for every running import of the project (their rows' foreign key holds the row
        # FOR KEY SHARE) before this holds anything they would wait for.
        conn.execute(select(projects.c.id).where(projects.c.id == project_id)
                     .with_for_update(key_share=not renamed))
    if resets_needed:
        _set_needed(conn, project_id, needed_now)
    if values:
        try:
            conn.execute(update(projects).where(projects.c.id == project_id).values(**values))
        except IntegrityError:
            raise Conflict(f"a project named {values.get('name')!r} already exists") from None
        changed = {k: v for k, v in values.items() if k != "label_schema"}
        if "label_schema" in values:
            changed["schema_sha256"] = _digest(values["label_schema"])
        # The settings as asked (the keys sent), and the whole result for quality and loop.
        audit.record(conn, actor, "project.update", project_id=project_id, object_type="project",
                     object_id=project_id, details={"changed": changed, "quality_sent": quality,
                                                    "loop_sent": loop})
    return get_project(conn, actor, project_id)


def _set_needed(conn: Connection, project_id: int, overlap: int) -> None:
    """A new number of answers per item applies to every item; one with more answers keeps them.
    Items a manager set aside (a duplicate of one kept: services/curation/duplicates.py) stay out."""
    needed = func.max(overlap, items.c.reserved) if conn.dialect.name == "sqlite" else func.greatest(
        overlap, items.c.reserved
    )
    these = (items.c.project_id == project_id) & ~items.c.id.in_(select(duplicate_set_asides.c.item_id))
    conn.execute(update(items).where(these).values(needed=needed))
    conn.execute(update(items).where(these).values(is_open=open_when(items.c.reserved)))


def delete_project(conn: Connection, actor: Actor, project_id: int) -> None:
    acc = access(conn, actor, project_id, Action.delete_project)
    from labelloop.services.curation import pg_vectors  # curation's modules import this one

    pg_vectors.forget_project(conn, project_id)
    conn.execute(delete(projects).where(projects.c.id == project_id))
    audit.record(conn, actor, "project.delete", project_id=project_id, object_type="project",
                 object_id=project_id, details={"name": acc.project.name})


def list_members(conn: Connection, actor: Actor, project_id: int) -> list[MemberInfo]:
    access(conn, actor, project_id, Action.view_members)
    rows = conn.execute(
        select(memberships.c.user_id, users.c.username, memberships.c.role)
        .join(users, users.c.id == memberships.c.user_id)
        .where(memberships.c.project_id == project_id)
        .order_by(users.c.username)
    )
    return [MemberInfo(r.user_id, r.username, r.role) for r in rows]


def set_member(conn: Connection, actor: Actor, project_id: int, user_id: int, role: str) -> MemberInfo:
    acc = access(conn, actor, project_id, Action.edit_members)
    try:
        new_role = Role.parse(role)
    except ValueError as e:
        raise Invalid("invalid role", [Problem(str(e), field="role")]) from None
    user = conn.execute(select(users.c.username).where(users.c.id == user_id)).first()
    if user is None:
        raise NotFound(f"user {user_id} not found")
    current = conn.execute(
        select(memberships.c.role).where(
            memberships.c.project_id == project_id, memberships.c.user_id == user_id
        )
    ).scalar_one_or_none()
    for changed in (new_role, Role[current] if current else None):
        if changed is not None and not may_grant(actor, acc.role, changed):
            raise Forbidden("only owners may grant or take away the owner role")
    if current == Role.owner.name and new_role != Role.owner:
        _keep_an_owner(conn, project_id)
    if current is None:
        conn.execute(
            insert(memberships).values(
                project_id=project_id, user_id=user_id, role=new_role.name, created_at=utcnow()
            )
        )
    else:
        conn.execute(
            update(memberships)
            .where(memberships.c.project_id == project_id, memberships.c.user_id == user_id)
            .values(role=new_role.name)
        )
    if current != new_role.name:
        audit.record(conn, actor, "member.set", project_id=project_id, object_type="user", object_id=user_id,
                     details={"username": user.username, "role": new_role.name, "previous": current})
    return MemberInfo(user_id, user.username, new_role.name)


def add_member(conn: Connection, actor: Actor, project_id: int, username: str, role: str) -> MemberInfo:
    """Add (or re-role) a member by username, so managers need not know user ids."""
    access(conn, actor, project_id, Action.edit_members)
    user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if user_id is None:
        raise NotFound(f"user {username!r} not found")
    return set_member(conn, actor, project_id, user_id, role)


def remove_member(conn: Connection, actor: Actor, project_id: int, user_id: int) -> None:
    acc = access(conn, actor, project_id, Action.edit_members)
    current = conn.execute(
        select(memberships.c.role).where(
            memberships.c.project_id == project_id, memberships.c.user_id == user_id
        )
    ).scalar_one_or_none()
    if current is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    if not may_grant(actor, acc.role, Role[current]):
        raise Forbidden("only owners may remove an owner")
    if current == Role.owner.name:
        _keep_an_owner(conn, project_id)
    conn.execute(
        delete(memberships).where(
            memberships.c.project_id == project_id, memberships.c.user_id == user_id
        )
    )
    audit.record(conn, actor, "member.remove", project_id=project_id, object_type="user", object_id=user_id,
                 details={"previous": current})


def _keep_an_owner(conn: Connection, project_id: int) -> None:
    owners = conn.execute(
        select(func.count()).where(
            memberships.c.project_id == project_id, memberships.c.role == Role.owner.name
        )
    ).scalar_one()
    if owners <= 1:
        raise Conflict("a project keeps at least one owner")
