"""API tokens: created for a user, shown once, stored only as a hash, with scopes and an expiry.

Managing tokens needs the `admin` scope (services/policy.py): a narrow token cannot mint another,
which could outlive it or be broader. A new token's scopes are those asked for, at most the
creator's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, or_, select, update

from labelloop.errors import Forbidden, Invalid, NotFound, Problem, Unauthenticated
from labelloop.services import audit
from labelloop.services.accounts.credentials import new_token, token_hash
from labelloop.services.policy import ALL_SCOPES, Actor, Scope, require_scope
from labelloop.store.models import api_tokens, users, utcnow

# A browser session is a token with this name (services/accounts/sessions.py).
SESSION_TOKEN_NAME = "browser session"
MAX_DAYS = 3650


@dataclass(frozen=True)
class TokenInfo:
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool
    scopes: tuple[str, ...]  # in the order of `Scope`


@dataclass(frozen=True)
class NewToken:
    info: TokenInfo
    secret: str  # shown to the user once; only its hash is kept


def _info(row: object) -> TokenInfo:
    r = row
    return TokenInfo(
        r.id, r.user_id, r.name, r.prefix, r.created_at, r.expires_at, r.revoked_at is not None,  # type: ignore[attr-defined]
        tuple(Scope.text(stored_scopes(r.scopes)).split()),  # type: ignore[attr-defined]
    )


def stored_scopes(text: str) -> frozenset[Scope]:
    """The scopes of a stored token; an unknown name (from a newer version) grants nothing."""
    return frozenset(s for s in Scope if s.value in text.split())


def create_token(
    conn: Connection, actor: Actor, user_id: int, name: str, *, expires_in_days: int | None = None,
    scopes: frozenset[Scope] = ALL_SCOPES,
) -> NewToken:
    require_scope(actor, Scope.admin, "creating tokens")
    if not actor.is_admin and actor.user_id != user_id:
        raise Forbidden("you may create tokens only for yourself")
    if not scopes:
        raise Invalid("invalid token scopes", [Problem(
            f"at least one of: {', '.join(s.value for s in Scope)}", field="scopes")])
    if not scopes <= actor.scopes:
        raise Forbidden(f"a token may not have scopes its creator lacks: {Scope.text(scopes - actor.scopes)}")
    # 0 must not slip through as "no expiry" (it is falsy); leave it out for a token that never expires.
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        raise Invalid("invalid token expiry", [Problem(
            f"between 1 and {MAX_DAYS} days; leave it out for a token that does not expire",
            field="expires_in_days")])
    if conn.execute(select(users.c.id).where(users.c.id == user_id)).first() is None:
        raise NotFound(f"user {user_id} not found")
    secret, hashed, prefix = new_token()
    now = utcnow()
    row = conn.execute(
        insert(api_tokens)
        .values(
            user_id=user_id,
            name=name,
            token_hash=hashed,
            prefix=prefix,
            created_at=now,
            expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
            scopes=Scope.text(scopes),
        )
        .returning(api_tokens)
    ).one()
    audit.record(conn, actor, "token.create", object_type="token", object_id=row.id,
                 details={"user_id": user_id, "name": name, "prefix": prefix, "scopes": Scope.text(scopes),
                          "expires_in_days": expires_in_days})
    return NewToken(_info(row), secret)


def list_tokens(conn: Connection, actor: Actor, user_id: int) -> list[TokenInfo]:
    require_scope(actor, Scope.admin, "listing tokens")
    if not actor.is_admin and actor.user_id != user_id:
        raise Forbidden("you may list only your own tokens")
    rows = conn.execute(
        select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
    )
    return [_info(r) for r in rows]


def revoke_token(conn: Connection, actor: Actor, token_id: int) -> None:
    require_scope(actor, Scope.admin, "revoking tokens")
    row = conn.execute(select(api_tokens.c.user_id).where(api_tokens.c.id == token_id)).first()
    if row is None or (not actor.is_admin and row.user_id != actor.user_id):
        raise NotFound(f"token {token_id} not found")
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    audit.record(conn, actor, "token.revoke", object_type="token", object_id=token_id,
                 details={"user_id": row.user_id})


def revoke_user_tokens(conn: Connection, user_id: int, *, sessions_only: bool, keep: str | None) -> int:
    """Revoke a user's browser sessions (or every token), except the one whose secret is `keep`."""
    query = update(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
    if sessions_only:
        query = query.where(api_tokens.c.name == SESSION_TOKEN_NAME)
    if keep is not None:
        query = query.where(api_tokens.c.token_hash != token_hash(keep))
    return conn.execute(query.values(revoked_at=utcnow())).rowcount


_ACTOR_BY_TOKEN = (
    select(users.c.id, users.c.username, users.c.is_admin, api_tokens.c.scopes)
    .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
    .where(
        api_tokens.c.token_hash == bindparam("hash"),
        api_tokens.c.revoked_at.is_(None),
        or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > bindparam("now")),
        users.c.is_active.is_(True),
    )
)


def actor_for_token(conn: Connection, secret: str) -> Actor:
    """The active user a live token belongs to (on every request: one indexed lookup)."""
    row = conn.execute(_ACTOR_BY_TOKEN, {"hash": token_hash(secret), "now": utcnow()}).first()
    if row is None:
        raise Unauthenticated("invalid, expired or revoked token")
    return Actor.for_token(row.id, row.username, row.is_admin, stored_scopes(row.scopes))
