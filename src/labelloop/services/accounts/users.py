"""User accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from labelloop.errors import Conflict, Forbidden, Invalid, NotFound, Problem, Unauthenticated
from labelloop.services import audit
from labelloop.services.accounts import tokens
from labelloop.services.accounts.credentials import hash_password, new_password, verify_password
from labelloop.services.policy import Actor, Scope, require_admin, require_scope
from labelloop.store.models import users, utcnow

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,149}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str | None
    is_admin: bool
    is_active: bool
    created_at: datetime


def _info(row: object) -> UserInfo:
    return UserInfo(
        row.id, row.username, row.display_name, row.is_admin, row.is_active, row.created_at  # type: ignore[attr-defined]
    )


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(
            "password too short", [Problem(f"at least {MIN_PASSWORD} characters", field="password")]
        )


def create_user(
    conn: Connection,
    actor: Actor,
    username: str,
    *,
    password: str | None = None,
    display_name: str | None = None,
    is_admin: bool = False,
) -> UserInfo:
    require_admin(actor)
    if not USERNAME.match(username):
        raise Invalid(
            "invalid username",
            [Problem("letters, digits and _ . @ -, starting with a letter or digit", field="username")],
        )
    if password is not None:
        check_new_password(password)
    try:
        row = conn.execute(
            insert(users)
            .values(
                username=username,
                display_name=display_name,
                password_hash=hash_password(password) if password else None,
                is_admin=is_admin,
                is_active=True,
                created_at=utcnow(),
            )
            .returning(users)
        ).one()
    except IntegrityError:
        raise Conflict(f"user {username!r} already exists") from None
    audit.record(conn, actor, "user.create", object_type="user", object_id=row.id,
                 details={"username": username, "is_admin": is_admin, "password_set": password is not None})
    return _info(row)


def get_user(conn: Connection, user_id: int) -> UserInfo:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return _info(row)


def find_user(conn: Connection, username: str) -> UserInfo:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFound(f"user {username!r} not found")
    return _info(row)


def list_users(conn: Connection, actor: Actor) -> list[UserInfo]:
    require_admin(actor)
    return [_info(r) for r in conn.execute(select(users).order_by(users.c.id))]


def update_user(
    conn: Connection,
    actor: Actor,
    user_id: int,
    *,
    password: str | None = None,
    display_name: str | None = None,
    is_active: bool | None = None,
    is_admin: bool | None = None,
    revoke_tokens: bool = True,
) -> UserInfo:
    """Admins change anyone; a user may change only their own display name here.

    A new password set by an admin (or the operator) is a reset: it ends the user's browser
    sessions and, unless `revoke_tokens` is false, their API tokens, since whoever knew the old
    password may hold them. Changing one's own password needs the current one (see
    `sign_in.change_own_password`), even for an admin, so a stolen session cannot do it.
    """
    require_scope(actor, Scope.admin, "changing an account")
    if not actor.is_admin and (actor.user_id != user_id or is_active is not None or is_admin is not None):
        require_admin(actor)
    if password is not None and actor.user_id == user_id:
        raise Forbidden("changing your own password needs your current password (POST /api/me/password)")
    values: dict[str, object] = {}
    if password is not None:
        check_new_password(password)
        set_password(conn, user_id, password, keep_token=None, revoke_tokens=revoke_tokens)
    if display_name is not None:
        values["display_name"] = display_name
    if is_active is not None:
        values["is_active"] = is_active
    if is_admin is not None:
        values["is_admin"] = is_admin
    if values:
        conn.execute(update(users).where(users.c.id == user_id).values(**values))
    if values or password is not None:
        audit.record(conn, actor, "user.update", object_type="user", object_id=user_id,
                     details={**values, "password_reset": password is not None,
                              "revoke_tokens": revoke_tokens if password is not None else None})
    return get_user(conn, user_id)


def set_password(
    conn: Connection, user_id: int, password: str, *, keep_token: str | None, revoke_tokens: bool
) -> None:
    """Store a new password and end the credentials the old one may have given away.

    No permission check: the callers decided (an admin's reset, or a user who gave the current
    password). Browser sessions other than `keep_token` end; every other token too if asked.
    """
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=hash_password(password)))
    tokens.revoke_user_tokens(conn, user_id, sessions_only=not revoke_tokens, keep=keep_token)


def authenticate(conn: Connection, username: str, password: str) -> UserInfo:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    ok = verify_password(password, row.password_hash if row is not None else None)
    if row is None or not ok or not row.is_active:
        raise Unauthenticated("wrong username or password")
    return _info(row)


FIRST_ADMIN_LOCK = 0x6C61_6265_6C61  # a PostgreSQL advisory lock of its own


def ensure_first_admin(conn: Connection, username: str = "admin") -> tuple[str, str] | None:
    """On an empty instance, create an admin and return (username, password) to show once.
    Processes starting side by side on one PostgreSQL take turns (the first creates it)."""
    if conn.dialect.name == "postgresql":  # held until this transaction ends
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FIRST_ADMIN_LOCK})
    if conn.execute(select(func.count()).select_from(users)).scalar_one() > 0:
        return None
    password = new_password()
    create_user(conn, Actor.operator(), username, password=password, is_admin=True)
    return username, password
