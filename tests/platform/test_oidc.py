"""Signing in with OpenID Connect, against a real local provider of the test's own.

The whole flow goes through HTTP: the app's start redirects to the provider, the provider
redirects back with a code, the app's callback redeems it (client secret from the environment,
PKCE verifier), verifies the ID token and opens the same browser session as a password sign-in.
Each refusal says why on the sign-in page (`sign_in_error`) and opens no session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from labelloop.api.app import create_app
from labelloop.errors import Forbidden
from labelloop.services.accounts import users
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime
from labelloop.store.models import api_tokens, audit_log, user_identities
from tests.platform.conftest import make_settings
from tests.platform.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider, stop

SECRET_ENV = "LABELLOOP_TEST_OIDC_SECRET"
START = "/api/auth/oidc/kc/start"


@dataclass
class Setup:
    client: TestClient
    runtime: Runtime
    provider: Provider
    server: Any

    def add_user(self, username: str, **kw: Any) -> int:
        return self.runtime.db.run(
            lambda c: users.create_user(c, Actor.operator(), username, password="a-long-password", **kw)
        ).id

    def sessions(self) -> int:
        with self.runtime.db.read() as c:
            return int(c.execute(select(func.count()).select_from(api_tokens)).scalar_one())

    def refusals(self) -> list[Any]:
        """The audit log's entries of refused sign-ins, their details."""
        with self.runtime.db.read() as c:
            return list(c.execute(select(audit_log.c.details)
                                  .where(audit_log.c.action == "sign_in.failed")).scalars())


@pytest.fixture
def oidc_app(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
             ) -> Callable[..., AbstractContextManager[Setup]]:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)

    @contextmanager
    def make(**extra: Any) -> Iterator[Setup]:
        with running_provider() as (provider, server):
            conf = {"name": "kc", "label": "Team Keycloak", "issuer": provider.issuer, "client_id": CLIENT_ID,
                    "client_secret_env": SECRET_ENV,
                    "redirect_url": "http://testserver/api/auth/oidc/kc/callback", **extra}
            rt = Runtime(make_settings(tmp_path, database_url, oidc_providers=[conf]))
            try:
                with TestClient(create_app(rt)) as client:
                    yield Setup(client, rt, provider, server)
            finally:
                rt.close()

    return make


def sign_in(client: TestClient) -> httpx.Response:
    """Start, follow the provider's redirect, and land on the callback: the callback's answer."""
    r = client.get(START, follow_redirects=False)
    assert r.status_code == 302, r.text
    if r.headers["location"].startswith("/app/"):
        return r  # refused before leaving for the provider
    at_provider = httpx.get(r.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["location"])
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)


def refusal(r: httpx.Response) -> str:
    assert r.status_code == 302
    where = urlsplit(r.headers["location"])
    assert where.path == "/app/"
    errors = parse_qs(where.query).get("sign_in_error")
    assert errors, f"no error in {r.headers['location']}"
    assert "labelloop_session" not in r.cookies
    return errors[0]


def test_the_full_flow_opens_a_browser_session_for_the_pre_provisioned_user(oidc_app: Any) -> None:
    with oidc_app() as s:
        alice = s.add_user("alice@example.org")
        r = sign_in(s.client)
        assert r.status_code == 302 and r.headers["location"] == "/app/", r.headers["location"]
        assert r.cookies.get("labelloop_session") and r.cookies.get("labelloop_csrf")
        me = s.client.get("/api/me").json()
        assert me["id"] == alice and me["username"] == "alice@example.org"
        # the same session as a password sign-in: unsafe calls need the CSRF header
        csrf = s.client.cookies["labelloop_csrf"]
        assert s.client.post("/api/projects", json={"name": "x", "label_schema": {}}).status_code == 403
        assert s.client.delete("/api/auth/session", headers={"X-CSRF-Token": csrf}).status_code == 204
        # what the provider was sent: the secret (HTTP Basic), the PKCE verifier, our redirect URI
        form = s.provider.token_requests[-1]
        assert form["grant_type"] == "authorization_code" and len(form["code_verifier"]) >= 43
        assert "client_secret" not in form
        with s.runtime.db.read() as c:
            linked = c.execute(select(user_identities)).all()
        assert [(i.user_id, i.provider, i.subject) for i in linked] == [(alice, "kc", "kc-0001")]


def test_a_linked_identity_signs_in_by_its_subject_even_when_the_address_changes(oidc_app: Any) -> None:
    with oidc_app() as s:
        alice = s.add_user("alice@example.org")
        sign_in(s.client)
        s.provider.user = {**s.provider.user, "email": "alice.martin@example.org", "email_verified": False}
        s.client.cookies.clear()
        assert sign_in(s.client).headers["location"] == "/app/"
        assert s.client.get("/api/me").json()["id"] == alice


def test_providers_are_listed_for_the_sign_in_page_without_a_token(oidc_app: Any) -> None:
    with oidc_app() as s:
        assert s.client.get("/api/auth/oidc/providers").json() == [
            {"name": "kc", "label": "Team Keycloak", "start_url": START}]
        r = s.client.get("/api/auth/oidc/nope/start", follow_redirects=False)
        assert r.status_code == 404 and "no OpenID Connect provider 'nope'" in r.json()["error"]["message"]


@pytest.mark.parametrize(("misbehave", "message"), [
    (lambda p: setattr(p, "audience", "another-client"), "not meant for this client"),
    (lambda p: setattr(p, "lifetime_s", -600), "the ID token has expired"),
    (lambda p: setattr(p, "signer", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
     "signature does not verify"),
    (lambda p: setattr(p, "nonce", "a-nonce-from-another-sign-in"), "made for another sign-in (nonce)"),
    (lambda p: setattr(p, "user", {**p.user, "email_verified": False}),
     "has not verified the e-mail address alice@example.org"),
    (lambda p: setattr(p, "user", {**p.user, "email_verified": "true"}), "has not verified"),
])
def test_a_bad_id_token_is_refused_and_opens_no_session(
    oidc_app: Any, misbehave: Callable[[Provider], None], message: str
) -> None:
    with oidc_app() as s:
        s.add_user("alice@example.org")
        before = s.sessions()
        misbehave(s.provider)
        assert message in refusal(sign_in(s.client))
        assert s.client.get("/api/me").status_code == 401
        assert s.sessions() == before
        [logged] = s.refusals()  # the refusal is in the audit log, with the provider and the reason
        assert logged["method"] == "oidc" and logged["provider"] == "kc" and message in logged["reason"]


def test_a_replayed_callback_is_refused(oidc_app: Any) -> None:
    with oidc_app() as s:
        s.add_user("alice@example.org")
        r = s.client.get(START, follow_redirects=False)
        back = urlsplit(httpx.get(r.headers["location"], follow_redirects=False).headers["location"])
        state_cookie = s.client.cookies["labelloop_oidc_state"]
        assert s.client.get(f"{back.path}?{back.query}", follow_redirects=False).headers["location"] == "/app/"
        s.client.cookies.set("labelloop_oidc_state", state_cookie, path="/api/auth/oidc")
        assert "unknown, used or expired sign-in" in refusal(
            s.client.get(f"{back.path}?{back.query}", follow_redirects=False))


def test_a_callback_in_another_browser_or_with_another_state_is_refused(oidc_app: Any) -> None:
    with oidc_app() as s:
        s.add_user("alice@example.org")
        r = s.client.get(START, follow_redirects=False)
        back = urlsplit(httpx.get(r.headers["location"], follow_redirects=False).headers["location"])
        code = parse_qs(back.query)["code"][0]
        # login CSRF: the victim's browser never started this sign-in
        with TestClient(s.client.app) as victim:
            assert "not started in this browser" in refusal(
                victim.get(f"{back.path}?{back.query}", follow_redirects=False))
        # the right browser, a state that is not the one it was given
        assert "not started in this browser" in refusal(
            s.client.get(f"{back.path}?code={code}&state=forged", follow_redirects=False))
        assert s.provider.token_requests == []  # the code was never redeemed


def test_an_unknown_address_needs_an_account_unless_the_provider_creates_users(oidc_app: Any) -> None:
    with oidc_app() as s:
        assert "no account for alice@example.org" in refusal(sign_in(s.client))
    with oidc_app(create_users=True, allowed_domains=["example.org"]) as s:
        assert sign_in(s.client).headers["location"] == "/app/"
        me = s.client.get("/api/me").json()
        assert me["username"] == "alice@example.org" and me["display_name"] == "Alice" and not me["is_admin"]


def test_an_admin_can_restrict_sign_in_to_a_domain(oidc_app: Any) -> None:
    with oidc_app(allowed_domains=["hospital.example"]) as s:
        s.add_user("alice@example.org")
        assert "e-mail addresses at example.org may not sign in" in refusal(sign_in(s.client))


def test_a_deactivated_account_cannot_sign_in(oidc_app: Any) -> None:
    with oidc_app() as s:
        uid = s.add_user("alice@example.org")
        s.runtime.db.run(lambda c: users.update_user(c, Actor.operator(), uid, is_active=False))
        assert "deactivated" in refusal(sign_in(s.client))


def test_a_provider_that_is_down_is_a_clear_error(oidc_app: Any) -> None:
    with oidc_app() as s:
        s.add_user("alice@example.org")
        stop(s.server)
        message = refusal(sign_in(s.client))
        assert f"the identity provider 'kc' cannot be reached at {s.provider.issuer}/.well-known/" in message


def test_a_provider_going_down_during_the_sign_in_is_a_clear_error(oidc_app: Any) -> None:
    with oidc_app() as s:
        s.add_user("alice@example.org")
        r = s.client.get(START, follow_redirects=False)
        back = urlsplit(httpx.get(r.headers["location"], follow_redirects=False).headers["location"])
        stop(s.server)
        message = refusal(s.client.get(f"{back.path}?{back.query}", follow_redirects=False))
        assert f"cannot be reached at {s.provider.issuer}/token" in message


def test_a_missing_client_secret_is_named(oidc_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with oidc_app() as s:
        s.add_user("alice@example.org")
        monkeypatch.delenv(SECRET_ENV)
        assert f"the environment variable {SECRET_ENV} is empty or missing" in refusal(sign_in(s.client))


def test_the_provider_refusing_is_shown(oidc_app: Any) -> None:
    with oidc_app() as s:
        r = s.client.get("/api/auth/oidc/kc/callback?error=access_denied&error_description=User+cancelled",
                         follow_redirects=False)
        assert refusal(r) == "Team Keycloak did not sign you in: User cancelled"


def test_a_recycled_address_does_not_inherit_the_account_until_an_admin_unlinks(oidc_app: Any) -> None:
    from labelloop.services.accounts import identities

    with oidc_app() as s:
        alice = s.add_user("alice@example.org")
        assert sign_in(s.client).headers["location"] == "/app/"
        # the provider gives the address to someone else: another subject
        s.provider.user = {**s.provider.user, "sub": "kc-0999"}
        s.client.cookies.clear()
        assert "linked to another identity at 'kc'" in refusal(sign_in(s.client))
        with s.runtime.db.read() as c:
            assert [i.subject for i in identities.list_identities(c, Actor.operator(), alice)] == ["kc-0001"]
            with pytest.raises(Forbidden):
                identities.list_identities(c, Actor(alice, "alice@example.org"), alice)
        assert s.runtime.db.run(lambda c: identities.unlink(c, Actor.operator(), alice, "kc")) == 1
        assert sign_in(s.client).headers["location"] == "/app/"
        assert s.client.get("/api/me").json()["id"] == alice
