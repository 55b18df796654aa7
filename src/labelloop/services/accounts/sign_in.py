"""Checking a password, under limits on failed attempts per account and per client address.

Each key (an account, or a client address) counts its failures in a fixed window that starts at
its first failure; the counters live in the database, so the limits hold across server
processes. An attempt is counted *before* the password is checked, in a short transaction of its
own, and refunded once it succeeded: concurrent guesses from several processes cannot all slip
past the check (the upsert locks the counter's row), and the rollback of a refused request
cannot lose the count. A key that used up its window is refused, with the right password too, so
guessing cannot go on, until the window ends; a refused attempt checks no password and counts
nowhere. A successful sign-in clears the account's counter. Unknown usernames are counted like
known ones and checked against a dummy hash (`security.verify_password`), so neither the answer
nor its timing says which usernames exist.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.config import Settings
from labelloop.errors import Invalid, Problem, TooManyAttempts, Unauthenticated
from labelloop.services import audit
from labelloop.services.accounts import users
from labelloop.services.accounts.users import UserInfo
from labelloop.services.policy import Actor, Scope, require_scope
from labelloop.store.db import Database
from labelloop.store.models import sign_in_failures, utcnow
from labelloop.store.models import users as users_table

T = TypeVar("T")


@dataclass(frozen=True)
class SignInLimits:
    window_seconds: int = 900
    per_account: int = 10
    per_address: int = 50

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInLimits:
        return cls(settings.sign_in_window_seconds, settings.sign_in_max_failures_per_account,
                   settings.sign_in_max_failures_per_address)


@dataclass(frozen=True)
class Attempt:
    """An attempt counted as failed until it is known to have succeeded."""

    account: str
    address: str
    address_window: datetime  # the address's window it was counted in, to refund the right one


def account_key(username: str) -> str:
    # Hashed: people type passwords into the username box, and this table keeps what was typed.
    return "account:" + hashlib.sha256(username.encode()).hexdigest()


def address_key(address: str | None) -> str:
    return "address:" + (address or "unknown")[:90]


def _count_statement(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    t = sign_in_failures
    stmt = insert(t).values(key=bindparam("key"), failures=1, window_start=bindparam("now"))
    ended = t.c.window_start <= bindparam("since")
    return stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={"failures": case((ended, 1), else_=t.c.failures + 1),
              "window_start": case((ended, stmt.excluded.window_start), else_=t.c.window_start)},
    ).returning(t.c.failures, t.c.window_start)


_COUNT = {d: _count_statement(d) for d in ("sqlite", "postgresql")}


def count_attempt(
    conn: Connection, limits: SignInLimits, username: str, address: str | None,
    *, now: datetime | None = None,
) -> Attempt:
    """Count a sign-in as failed for its account and address, or TooManyAttempts if either is locked.

    Raising rolls the transaction back, so a refused attempt is not counted.
    """
    now = now or utcnow()
    window = timedelta(seconds=limits.window_seconds)
    since = now - window
    # Windows that ended count for nothing: dropping them keeps the table as small as the
    # number of keys that failed recently.
    conn.execute(delete(sign_in_failures).where(sign_in_failures.c.window_start <= since))
    keys = ((account_key(username), limits.per_account), (address_key(address), limits.per_address))
    waits: list[float] = []
    starts: list[datetime] = []
    for key, limit in keys:
        params = {"key": key, "now": now, "since": since}
        failures, start = conn.execute(_COUNT[conn.dialect.name], params).one()
        starts.append(start)
        if failures > limit:
            waits.append((start + window - now).total_seconds())
    if waits:
        retry_after = max(1, math.ceil(max(waits)))
        raise TooManyAttempts(
            f"too many failed sign-ins: try again in {retry_after} seconds", retry_after=retry_after
        )
    return Attempt(keys[0][0], keys[1][0], starts[1])


def succeeded(conn: Connection, attempt: Attempt) -> None:
    """Clear the account's failures and refund the address the attempt it counted."""
    t = sign_in_failures
    conn.execute(delete(t).where(t.c.key == attempt.account))
    conn.execute(
        update(t)
        .where(t.c.key == attempt.address, t.c.window_start == attempt.address_window, t.c.failures > 0)
        .values(failures=t.c.failures - 1)
    )


def _failed(conn: Connection, username: str, address: str | None, reason: str) -> None:
    """A refused sign-in in the audit log: the account if it exists (a username that is not one
    may be a password typed in the wrong box, so only its hash is kept, as in the counters)."""
    found = conn.execute(select(users_table.c.id).where(users_table.c.username == username)).scalar()
    audit.record(conn, None, "sign_in.failed", object_type="user", object_id=found, actor_id=found,
                 actor_name=username if found is not None else "(unknown)",
                 details={"reason": reason, "address": address,
                          "account": None if found is not None else account_key(username)})


def sign_in(
    db: Database, limits: SignInLimits, username: str, password: str, address: str | None,
    then: Callable[[Connection, UserInfo], T],
) -> T:
    """Check a username and password under the limits, then `then(conn, user)` in a write transaction.

    Unauthenticated if wrong (the failure stays counted), TooManyAttempts if locked.
    """
    try:
        attempt = db.run(lambda conn: count_attempt(conn, limits, username, address))
    except TooManyAttempts:
        db.run(lambda conn: _failed(conn, username, address, "too many failed sign-ins"))
        raise
    # Argon2 is slow on purpose: check it in a read transaction, not while holding the writer.
    try:
        with db.read() as conn:
            user = users.authenticate(conn, username, password)
    except Unauthenticated:
        db.run(lambda conn: _failed(conn, username, address, "wrong username or password"))
        raise

    def finish(conn: Connection) -> T:
        succeeded(conn, attempt)
        audit.record(conn, None, "sign_in", object_type="user", object_id=user.id, actor_id=user.id,
                     actor_name=user.username, details={"method": "password", "address": address})
        return then(conn, user)

    return db.run(finish)


def change_own_password(
    db: Database, limits: SignInLimits, actor: Actor, address: str | None,
    current_password: str, new_password: str, *, current_token: str | None, revoke_tokens: bool,
) -> None:
    """A user changes their own password, proving it is them with the current one.

    The check is a sign-in (the same limits), so a stolen session cannot be used to guess the
    password. The user's other browser sessions end, and with `revoke_tokens` every other API
    token too; the credential making the request (`current_token`) stays valid.
    """
    require_scope(actor, Scope.admin, "changing the password")
    users.check_new_password(new_password)  # before counting an attempt: a short one is no guess

    def change(conn: Connection, user: UserInfo) -> None:
        users.set_password(conn, user.id, new_password, keep_token=current_token,
                           revoke_tokens=revoke_tokens)
        audit.record(conn, actor, "password.change", object_type="user", object_id=user.id,
                     details={"revoke_tokens": revoke_tokens})

    try:
        sign_in(db, limits, actor.username, current_password, address, change)
    except Unauthenticated:
        raise Invalid("the current password is wrong",
                      [Problem("does not match", field="current_password")]) from None
