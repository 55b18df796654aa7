"""Browser sessions: an API token held in an HttpOnly cookie, plus the CSRF token bound to it.

A session is an ordinary API token (named `browser session`, with an expiry) so that one
lookup authenticates both kinds of caller, a revoked session stops working at once, and the
user sees and can end their sessions in `GET /api/tokens`. The CSRF token is derived from the
session secret, so it needs no storage and cannot be planted without knowing the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from labelloop.services import audit
from labelloop.services.accounts import tokens
from labelloop.services.accounts.credentials import token_hash
from labelloop.services.accounts.tokens import SESSION_TOKEN_NAME
from labelloop.services.accounts.users import UserInfo
from labelloop.services.policy import Actor
from labelloop.store.models import api_tokens, users, utcnow

SESSION_DAYS = 7


@dataclass(frozen=True)
class Session:
    secret: str  # goes into the HttpOnly cookie; only its hash is stored
    csrf: str  # goes into a cookie the page can read, and back in a header
    user: UserInfo
    expires_at: datetime


def csrf_token_for(secret: str) -> str:
    """The CSRF token of a session (domain-separated from the stored hash of the secret)."""
    return hashlib.sha256(b"labelloop-csrf:" + secret.encode()).hexdigest()


def csrf_matches(secret: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(csrf_token_for(secret), sent)


def open_session(conn: Connection, user: UserInfo) -> Session:
    """A session for a user whose password was checked (`sign_in.sign_in`)."""
    actor = Actor(user.id, user.username, user.is_admin)
    new = tokens.create_token(conn, actor, user.id, SESSION_TOKEN_NAME, expires_in_days=SESSION_DAYS)
    assert new.info.expires_at is not None
    return Session(new.secret, csrf_token_for(new.secret), user, new.info.expires_at)


def close_session(conn: Connection, secret: str) -> bool:
    """Revoke the token behind a session or bearer secret; whether a live one was revoked."""
    closed = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_hash == token_hash(secret), api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(api_tokens.c.id, api_tokens.c.user_id)
    ).all()
    for token in closed:
        name = conn.execute(select(users.c.username).where(users.c.id == token.user_id)).scalar()
        audit.record(conn, None, "sign_out", object_type="token", object_id=token.id,
                     actor_id=token.user_id, actor_name=name or "(deleted user)")
    return len(closed) == 1
