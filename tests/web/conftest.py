"""Fixtures: the platform's (database, runtime, API client) and, for browser tests, a real
server process and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from labelloop.config import Settings
from labelloop.services.runtime import Runtime
from labelloop.web import DIST_DIR
from tests.platform.conftest import client, database_url, runtime, settings, template_db, world
from tests.platform.live import live_server
from tests.web.site import Site

__all__ = ["client", "database_url", "runtime", "settings", "template_db", "world"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not (DIST_DIR / "index.html").is_file():
        pytest.fail("the web app is not built: run `make web`")
    data = tmp_path_factory.mktemp("web-site")
    url = f"sqlite:///{data / 'labelloop.db'}"
    with live_server(data, url) as server:
        runtime = Runtime(Settings(_env_file=None, data_dir=data, database_url=url))  # type: ignore[call-arg]
        try:
            yield Site(server.url, runtime)
        finally:
            runtime.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (scripts/test-deps.sh)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watch:
    """What a page did that it should not: dialogs, page errors, CSP violations."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser: Any, watch: Watch, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    context.set_default_timeout(15_000)
    p = context.new_page()

    def on_dialog(d: Any) -> None:
        watch.dialogs.append(d.message)
        d.dismiss()

    p.on("dialog", on_dialog)
    p.on("pageerror", lambda e: watch.errors.append(str(e)))
    p.on("console", lambda m: watch.errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield p
    if request.node.stash.get(_FAILED, False):
        # What the page showed when the test failed: a timeout alone does not say.
        try:
            shown = p.locator("body").inner_text(timeout=2_000)[:3_000]
            print(f"\n--- the page at {p.url} when the test failed ---\n{shown}\n---")
        except Exception as e:  # the page itself may be what broke
            print(f"\n--- the page could not be read: {e} ---")
    context.close()
