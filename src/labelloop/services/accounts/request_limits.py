"""Limits on OpenID Connect starts and callbacks per client address, held in the database.

A password sign-in is limited by its *failures* (sign_in.py): a guess costs the attacker a try.
An OpenID Connect start or callback is no guess, but each one costs the server: a start stores a
pending sign-in (`oidc_logins`) and reads the provider's metadata, a callback calls the provider's
token endpoint. So every request counts here, per client address, in a fixed window that starts at
its first request (the same window as the password limits, `LABELLOOP_SIGN_IN_WINDOW_SECONDS`).
The counters are rows of `request_limits`, one upsert per request (which locks the row, so
concurrent requests from several server processes cannot all slip past). A refused request is
rolled back, so it neither counts nor extends the window; it is answered 429 with `Retry-After`
and recorded in the audit log as a refused sign-in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.config import Settings
from labelloop.errors import TooManyAttempts
from labelloop.services import audit
from labelloop.store.db import Database
from labelloop.store.models import request_limits, utcnow


class OidcStep(StrEnum):
    start = "start"
    callback = "callback"


@dataclass(frozen=True)
class OidcLimits:
    window_seconds: int = 900
    starts_per_address: int = 60
    callbacks_per_address: int = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcLimits:
        return cls(settings.sign_in_window_seconds, settings.oidc_max_starts_per_address,
                   settings.oidc_max_callbacks_per_address)

    def limit(self, step: OidcStep) -> int:
        return self.starts_per_address if step is OidcStep.start else self.callbacks_per_address


def key(step: OidcStep, address: str | None) -> str:
    return f"oidc_{step.value}:address:" + (address or "unknown")[:80]


def _hit_statement(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    t = request_limits
    stmt = insert(t).values(key=bindparam("key"), hits=1, window_start=bindparam("now"))
    ended = t.c.window_start <= bindparam("since")
    return stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={"hits": case((ended, 1), else_=t.c.hits + 1),
              "window_start": case((ended, stmt.excluded.window_start), else_=t.c.window_start)},
    ).returning(t.c.hits, t.c.window_start)


_HIT = {d: _hit_statement(d) for d in ("sqlite", "postgresql")}


def count(conn: Connection, limits: OidcLimits, step: OidcStep, address: str | None,
          *, now: datetime | None = None) -> None:
    """Count one request from `address`, or TooManyAttempts (rolling the count back) past the limit."""
    now = now or utcnow()
    window = timedelta(seconds=limits.window_seconds)
    since = now - window
    # Windows that ended count for nothing: dropping them keeps the table to recent addresses.
    conn.execute(delete(request_limits).where(request_limits.c.window_start <= since))
    hits, start = conn.execute(
        _HIT[conn.dialect.name], {"key": key(step, address), "now": now, "since": since}
    ).one()
    if hits > limits.limit(step):
        retry_after = max(1, math.ceil((start + window - now).total_seconds()))
        raise TooManyAttempts(
            f"too many OpenID Connect sign-in {step.value}s from this address: "
            f"try again in {retry_after} seconds", retry_after=retry_after,
        )


def check_oidc(db: Database, limits: OidcLimits, step: OidcStep, provider: str, address: str | None) -> None:
    """Count a start or callback; a refusal is recorded in the audit log (in a transaction of its
    own, since the count was rolled back) and raised as TooManyAttempts."""
    try:
        db.run(lambda conn: count(conn, limits, step, address))
    except TooManyAttempts as e:
        details = {"method": "oidc", "provider": provider, "step": step.value, "address": address,
                   "reason": f"too many sign-in {step.value}s from this address"}
        db.run(lambda conn: audit.record(conn, None, "sign_in.failed", object_type="user",
                                         details=details))
        raise e
