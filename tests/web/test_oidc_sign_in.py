"""Signing in with OpenID Connect from the sign-in page, in real Chromium, against the tests' provider.

The server is a real process configured with the provider by environment variables, as a team
would run it; the button on the sign-in page goes to the provider, which sends the browser back,
and the app opens signed in. A refusal comes back to the sign-in page, shown as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labelloop.config import Settings
from labelloop.services.accounts import users
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime
from tests.platform.live import LiveServer, free_port, live_server
from tests.platform.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.web.waits import wait_until

pytestmark = pytest.mark.server


@pytest.fixture
def signed_in_setup(tmp_path: Path) -> Iterator[tuple[LiveServer, Provider]]:
    url = f"sqlite:///{tmp_path / 'labelloop.db'}"
    port = free_port()
    with running_provider() as (provider, _server):
        conf = [{"name": "kc", "label": "Team Keycloak", "issuer": provider.issuer, "client_id": CLIENT_ID,
                 "client_secret_env": "KC_CLIENT_SECRET",
                 "redirect_url": f"http://127.0.0.1:{port}/api/auth/oidc/kc/callback"}]
        env = {"LABELLOOP_OIDC_PROVIDERS": json.dumps(conf), "KC_CLIENT_SECRET": CLIENT_SECRET}
        with live_server(tmp_path, url, env=env, port=port) as server:
            rt = Runtime(Settings(_env_file=None, data_dir=tmp_path, database_url=url))  # type: ignore[call-arg]
            try:
                rt.db.run(lambda c: users.create_user(c, Actor.operator(), "alice@example.org"))
            finally:
                rt.close()
            yield server, provider


def test_the_sign_in_page_signs_in_through_the_provider(page: Any, signed_in_setup: Any) -> None:
    server, provider = signed_in_setup
    page.goto(f"{server.url}/app/")
    button = page.get_by_role("link", name="Sign in with Team Keycloak")
    button.click()
    wait_until(page, "document.body.innerText.includes('alice@example.org')")
    assert page.url.startswith(f"{server.url}/app/")
    assert len(provider.issued) == 1
    me = page.evaluate("fetch('/api/me').then(r => r.json())")
    assert me["username"] == "alice@example.org"


def test_a_refused_sign_in_comes_back_to_the_page_with_the_reason(page: Any, signed_in_setup: Any) -> None:
    server, provider = signed_in_setup
    provider.user = {**provider.user, "email_verified": False}
    page.goto(f"{server.url}/app/")
    page.get_by_role("link", name="Sign in with Team Keycloak").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "has not verified the e-mail address alice@example.org" in alert.inner_text()
    assert "sign_in_error" not in page.url  # read once, then dropped from the address bar
    assert page.get_by_label("Username").is_visible()
