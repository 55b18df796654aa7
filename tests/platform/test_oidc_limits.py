"""OpenID Connect starts and callbacks are limited per client address, in the database.

Every start stores a pending sign-in and every callback calls the provider, so both count (not
only failures). Past the limit: 429 with Retry-After, recorded in the audit log, counted nowhere.
Windows are ended by moving the stored window start into the past, never by waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from labelloop.api.app import create_app
from labelloop.services.runtime import Runtime
from labelloop.store.models import audit_log, oidc_logins, request_limits, utcnow
from tests.platform.conftest import make_settings
from tests.platform.oidc_provider import CLIENT_ID, CLIENT_SECRET, running_provider

SECRET_ENV = "LABELLOOP_TEST_OIDC_SECRET"
START = "/api/auth/oidc/kc/start"
CALLBACK = "/api/auth/oidc/kc/callback"


@pytest.fixture
def provider_conf(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    with running_provider() as (provider, _server):
        yield {"name": "kc", "issuer": provider.issuer, "client_id": CLIENT_ID,
               "client_secret_env": SECRET_ENV, "redirect_url": "http://testserver" + CALLBACK}


@contextmanager
def server(tmp_path: Path, database_url: str, conf: dict[str, Any], name: str,
           address: str = "testclient", **settings: object) -> Iterator[tuple[TestClient, Runtime]]:
    """A server process of its own on the shared database, seen from one client address."""
    folder = tmp_path / name
    folder.mkdir()
    rt = Runtime(make_settings(folder, database_url, oidc_providers=[conf], **settings))
    try:
        with TestClient(create_app(rt), client=(address, 50000)) as client:
            yield client, rt
    finally:
        rt.close()


def assert_limited(r: httpx.Response, window: int = 900) -> None:
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert error["type"] == "too_many_attempts"
    # What is left of the window, which began with this test's first request seconds ago (each
    # test takes well under two minutes): not a fixed pause.
    assert window - 120 <= int(r.headers["retry-after"]) <= window
    assert f"try again in {r.headers['retry-after']} seconds" in error["message"]
    assert "labelloop_session" not in r.cookies


def refusals(rt: Runtime) -> list[dict[str, Any]]:
    with rt.db.read() as c:
        return list(c.execute(select(audit_log.c.details).where(audit_log.c.action == "sign_in.failed")
                              .order_by(audit_log.c.seq)).scalars())


def pending(rt: Runtime) -> int:
    with rt.db.read() as c:
        return int(c.execute(select(func.count()).select_from(oidc_logins)).scalar_one())


def test_starts_past_the_limit_are_refused_counted_nowhere_and_audited(
    tmp_path: Path, database_url: str, provider_conf: dict[str, Any]
) -> None:
    with server(tmp_path, database_url, provider_conf, "a", oidc_max_starts_per_address=3) as (client, rt):
        for _ in range(3):
            assert client.get(START, follow_redirects=False).status_code == 302
        assert pending(rt) == 3
        for _ in range(5):  # refused: no pending sign-in stored, the window not extended
            assert_limited(client.get(START, follow_redirects=False))
        assert pending(rt) == 3
        with rt.db.read() as c:
            assert c.execute(select(request_limits.c.hits)
                             .where(request_limits.c.key == "oidc_start:address:testclient")).scalar_one() == 3
        logged = refusals(rt)
        assert len(logged) == 5
        assert logged[0] == {"method": "oidc", "provider": "kc", "step": "start", "address": "testclient",
                             "reason": "too many sign-in starts from this address"}
        # Callbacks have an allowance of their own.
        r = client.get(CALLBACK, params={"error": "access_denied"}, follow_redirects=False)
        assert r.status_code == 302
        # The window ends: starts are allowed again.
        with rt.db.write() as c:
            c.execute(update(request_limits).values(window_start=utcnow() - timedelta(hours=1)))
        assert client.get(START, follow_redirects=False).status_code == 302


def test_callbacks_past_the_limit_are_refused_before_calling_the_provider(
    tmp_path: Path, database_url: str, provider_conf: dict[str, Any]
) -> None:
    with server(tmp_path, database_url, provider_conf, "a", oidc_max_callbacks_per_address=2) as (client, rt):
        for _ in range(2):
            r = client.get(CALLBACK, params={"code": "forged", "state": "forged"}, follow_redirects=False)
            assert r.status_code == 302 and "sign_in_error" in r.headers["location"]
        # A real sign-in's callback is refused too: the address used its allowance.
        started = client.get(START, follow_redirects=False)
        at_provider = httpx.get(started.headers["location"], follow_redirects=False)
        back = httpx.URL(at_provider.headers["location"])
        limited = client.get(f"{back.path}?{back.query.decode()}", follow_redirects=False)
        assert_limited(limited)
        assert pending(rt) == 1  # the refused callback did not use the pending sign-in
        assert refusals(rt)[-1]["step"] == "callback"
        with rt.db.read() as c:
            assert c.execute(select(func.count()).select_from(audit_log)
                             .where(audit_log.c.action == "sign_in")).scalar_one() == 0


def test_the_limit_is_shared_by_server_processes_and_kept_per_address(
    tmp_path: Path, database_url: str, provider_conf: dict[str, Any]
) -> None:
    limit = {"oidc_max_starts_per_address": 4}
    with (server(tmp_path, database_url, provider_conf, "a", "10.0.0.1", **limit) as (one, rt),
          server(tmp_path, database_url, provider_conf, "b", "10.0.0.1", **limit) as (two, _),
          server(tmp_path, database_url, provider_conf, "c", "10.0.0.2", **limit) as (other, _)):
        for client in (one, two, one, two):
            # X-Forwarded-For is anyone's to write: it does not make a new address.
            r = client.get(START, headers={"X-Forwarded-For": "192.0.2.9"}, follow_redirects=False)
            assert r.status_code == 302
        assert_limited(one.get(START, follow_redirects=False))
        assert_limited(two.get(START, follow_redirects=False))
        assert other.get(START, follow_redirects=False).status_code == 302  # another address
        assert [d["address"] for d in refusals(rt)] == ["10.0.0.1", "10.0.0.1"]


def test_an_unknown_provider_is_404_and_counts_nothing(
    tmp_path: Path, database_url: str, provider_conf: dict[str, Any]
) -> None:
    with server(tmp_path, database_url, provider_conf, "a", oidc_max_starts_per_address=1) as (client, _):
        for _ in range(3):
            assert client.get("/api/auth/oidc/nobody/start", follow_redirects=False).status_code == 404
        assert client.get(START, follow_redirects=False).status_code == 302
        assert_limited(client.get(START, follow_redirects=False))
