"""Waiting on the page's own state. Playwright's `wait_for_function` polls by evaluating a string
inside the page, which the app's Content-Security-Policy (no 'unsafe-eval') refuses as soon as
the first check fails; `page.evaluate` runs through the debugging protocol and is not affected."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Error as PlaywrightError


def wait_until(page: Any, expression: str, *, timeout_s: float = 15.0) -> None:
    """Wait until the JavaScript `expression` is truthy in the page. While the page navigates
    (a redirect after a click) the expression can meet a document without a body, or a context
    that is being torn down: such an error counts as "not yet", and is raised only at the end."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if page.evaluate(expression):
                return
            failure: Exception | None = None
        except PlaywrightError as error:
            failure = error
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}") from failure
        page.wait_for_timeout(50)


def wait_for_the_end(page: Any) -> None:
    """Wait for the end of the queue and for the outbox to have sent every answer: the page moves
    on to "Nothing left" before the server has the last answer, so reading answers back any
    sooner can miss it."""
    page.get_by_text("Nothing left for you in this project").wait_for()
    page.locator(".pending[data-pending='0']").wait_for()
