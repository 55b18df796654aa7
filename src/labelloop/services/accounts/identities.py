"""Which user an OpenID Connect identity signs in as.

1. An identity seen before, `(provider, sub)`, is its linked user: the subject is the provider's
   stable id for the person (OpenID Connect Core §5.7), the e-mail address is not.
2. Otherwise the identity is linked by its e-mail address, and only when the provider says it
   verified it (`email_verified: true`), only in an allowed domain when the provider lists some,
   to the user whose username is that address (case-insensitively): an administrator
   pre-provisions accounts that way. With the provider's `create_users`, an unknown verified
   address gets a new account (never an administrator; no password) at its first sign-in.
3. A user already linked to another subject of the same provider is not linked again: a
   provider that hands a recycled address to someone else must not give them the old account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from labelloop.config import OidcProvider
from labelloop.errors import Unauthenticated
from labelloop.services.accounts import users
from labelloop.services.accounts.users import USERNAME, UserInfo
from labelloop.services.policy import Actor, require_admin
from labelloop.store.models import user_identities, utcnow
from labelloop.store.models import users as users_table


def user_for(conn: Connection, provider: OidcProvider, claims: dict[str, Any]) -> UserInfo:
    """The user the verified ID token's claims sign in as, or Unauthenticated saying why not."""
    subject = str(claims["sub"])
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    now = utcnow()
    linked = conn.execute(
        select(user_identities.c.id, user_identities.c.user_id)
        .where(user_identities.c.provider == provider.name, user_identities.c.subject == subject)
    ).first()
    if linked is not None:
        user = users.get_user(conn, linked.user_id)
        _check_active(user)
        conn.execute(update(user_identities).where(user_identities.c.id == linked.id)
                     .values(email=email, last_sign_in_at=now))
        return user
    user = _user_by_email(conn, provider, email, claims)
    _check_active(user)
    other = conn.execute(
        select(user_identities.c.id)
        .where(user_identities.c.provider == provider.name, user_identities.c.user_id == user.id)
    ).first()
    if other is not None:
        raise Unauthenticated(
            f"the account {user.username!r} is linked to another identity at {provider.name!r}; "
            f"an administrator must unlink it first (labelloop user unlink {user.username} {provider.name})"
        )
    conn.execute(insert(user_identities).values(
        user_id=user.id, provider=provider.name, subject=subject, email=email, created_at=now,
        last_sign_in_at=now,
    ))
    return user


def _user_by_email(
    conn: Connection, provider: OidcProvider, email: str | None, claims: dict[str, Any]
) -> UserInfo:
    if not email:
        raise Unauthenticated(
            f"{provider.name!r} sent no e-mail address to link this identity by (is the 'email' scope "
            "asked for?)"
        )
    # Only a literal true: some providers send the string "false", which is truthy.
    if claims.get("email_verified") is not True:
        raise Unauthenticated(f"{provider.name!r} has not verified the e-mail address {email}; "
                              "sign-in refused")
    domain = email.rpartition("@")[2].lower()
    allowed = {d.lower().lstrip("@") for d in provider.allowed_domains}
    if allowed and domain not in allowed:
        raise Unauthenticated(f"e-mail addresses at {domain} may not sign in with {provider.name!r}")
    row = conn.execute(
        select(users_table.c.id).where(func.lower(users_table.c.username) == email.lower())
    ).first()
    if row is not None:
        return users.get_user(conn, row.id)
    if not provider.create_users:
        raise Unauthenticated(
            f"no account for {email}: ask an administrator to create the user {email!r}"
        )
    if not USERNAME.match(email):
        raise Unauthenticated(f"{email!r} cannot be a username; ask an administrator for an account")
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    return users.create_user(conn, Actor.operator(), email, display_name=name)


@dataclass(frozen=True)
class IdentityInfo:
    provider: str
    subject: str
    email: str | None
    created_at: datetime
    last_sign_in_at: datetime | None


def list_identities(conn: Connection, actor: Actor, user_id: int) -> list[IdentityInfo]:
    """The provider identities that sign in as a user (administrators only)."""
    require_admin(actor)
    rows = conn.execute(select(user_identities).where(user_identities.c.user_id == user_id)
                        .order_by(user_identities.c.id))
    return [IdentityInfo(r.provider, r.subject, r.email, r.created_at, r.last_sign_in_at) for r in rows]


def unlink(conn: Connection, actor: Actor, user_id: int, provider: str) -> int:
    """Forget the user's identities at a provider (administrators only); how many were removed.

    The next sign-in there links again by verified e-mail address, as a first one would.
    """
    require_admin(actor)
    t = user_identities
    return conn.execute(delete(t).where(t.c.user_id == user_id, t.c.provider == provider)).rowcount


def _check_active(user: UserInfo) -> None:
    if not user.is_active:
        raise Unauthenticated(f"the account {user.username!r} is deactivated")
