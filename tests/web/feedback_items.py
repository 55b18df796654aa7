"""Language-model items for the feedback widgets' browser tests (docs/feedback.md): a prompt or a
conversation with candidate responses, a project over them, and reading what the page shows."""

from __future__ import annotations

from typing import Any

from tests.web.site import Person, Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_for_the_end

PROMPT = "Explain **recursion** in one paragraph."
RESPONSES = [
    {"id": "r1", "content": "Recursion is when a function calls *itself* on a smaller input.",
     "model": "secret-model-x", "meta": {"temperature": 0.7, "note": "meta-leak"}},
    {"id": "r2", "content": "A function that calls itself.\n\n```python\ndef f(n):\n    return 1 if n == 0 else n * f(n - 1)\n```",
     "model": "secret-model-y", "meta": {"note": "meta-leak"}},
]


def schema_with(*questions: dict[str, Any], conversation: bool = False) -> dict[str, Any]:
    prompt = {"name": "chat", "type": "conversation", "label": "Conversation"} if conversation else \
        {"name": "prompt", "type": "text", "label": "Prompt"}
    return {"fields": [prompt, {"name": "responses", "type": "responses", "label": "Responses"}],
            "questions": list(questions)}


def feedback_project(site: Site, schema: dict[str, Any], records: list[dict[str, Any]], *,
                     annotators: int = 1, overlap: int = 1) -> tuple[Person, list[Person], int]:
    owner = site.person("owner")
    people = [site.person("ann") for _ in range(annotators)]
    pid = site.project(owner, schema, overlap=overlap, members={"annotator": people})
    site.import_records(owner, pid, records)
    return owner, people, pid


def open_workbench(page: Any, site: Site, who: Person, pid: int) -> None:
    log_in(page, site, who, f"p/{pid}/label")
    page.locator("form.task").wait_for()


def sides(page: Any) -> tuple[str, str]:
    """The candidate ids in the two panes the preference shows, left first."""
    panes = page.locator(".candidates article.candidate")
    panes.nth(1).wait_for()
    return str(panes.nth(0).get_attribute("data-response")), str(panes.nth(1).get_attribute("data-response"))


def submit_and_wait_for_the_end(page: Any) -> None:
    """Submit, then wait for the end of the queue and for the outbox to have sent every answer
    (the page moves on before the server has the answer)."""
    page.keyboard.press("Enter")
    wait_for_the_end(page)


def stored(site: Site, owner: Person, pid: int, *, expect: int | None = None) -> list[dict[str, Any]]:
    """The stored answers' values; with *expect*, once that many arrived (see Site.answers)."""
    return [a["value"] for a in site.answers(owner, pid, expect=expect)]
