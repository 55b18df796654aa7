"""Untrusted prompts, conversations and responses stay inert in the browser: HTML shows as text,
`javascript:` and `data:` links are not links, images are not loaded, nothing runs and nothing is
fetched from elsewhere. Also: long conversations scroll in their own pane with the last turn in
view, and the side-by-side / stacked layout is remembered per person."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Watch
from tests.web.feedback_items import feedback_project, open_workbench, schema_with, sides
from tests.web.site import Site
from tests.web.test_workbench import log_in

HOSTILE = "\n\n".join([
    "Hello <script>alert('script')</script> there",
    "<img src=x onerror=alert('img')>",
    '<a href="javascript:alert(\'a\')">html link</a>',
    "[md link](javascript:alert('md'))",
    "[data link](data:text/html,<script>alert('data')</script>)",
    "[entity link](&#106;avascript:alert('entity'))",
    "<div onmouseover=\"alert('block')\">raw block</div>",
    '<iframe src="https://evil.example/frame"></iframe>',
    "![tracker](https://evil.example/pixel.png)",
    "[fine link](https://example.org/docs)",
    "`<b>code</b>` and\n\n```html\n<script>alert('code')</script>\n```",
])
PREFERENCE = {"name": "better", "type": "preference", "target": "responses"}


@pytest.mark.parametrize("conversation", [True, False], ids=["conversation", "prompt"])
def test_hostile_markdown_and_html_stay_inert_text(page: Any, site: Site, watch: Watch, conversation: bool) -> None:
    schema = schema_with(PREFERENCE, conversation=conversation)
    chat = [{"role": "system", "content": HOSTILE}, {"role": "user", "content": HOSTILE}]
    record = {"id": "h", **({"chat": chat} if conversation else {"prompt": HOSTILE}),
              "responses": [{"id": "r1", "content": HOSTILE}, {"id": "r2", "content": "**plain** answer"}]}
    _owner, [ann], pid = feedback_project(site, schema, [record])
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(site.url) else None)
    console_errors: list[str] = []
    # (the sign-in page's own "who am I?" is answered 401 before anyone has signed in)
    page.on("console", lambda m: console_errors.append(m.text)
            if m.type == "error" and "status of 401" not in m.text else None)
    open_workbench(page, site, ann, pid)
    hostile = page.locator(".candidate[data-response='r1'] .md")
    hostile.locator(".md-raw", has_text="<script>").first.wait_for()

    for where in (hostile, page.locator(".chat .turn").nth(1) if conversation else page.locator(".prompt")):
        text = where.inner_text()
        for visible in ("<script>alert('script')</script>", "<img src=x onerror=alert('img')>",
                        '<a href="javascript:alert(\'a\')">', "md link (javascript:alert('md'))",
                        "data link (data:text/html,<script>alert('data')</script>)",
                        "entity link (javascript:alert('entity'))",
                        "<div onmouseover=\"alert('block')\">raw block</div>", '<iframe src="https://evil.example/frame">',
                        "[image: tracker] (https://evil.example/pixel.png)", "<b>code</b>", "<script>alert('code')</script>"):
            assert visible in text, visible
    md = page.locator(".md")
    assert md.locator("script, img, iframe, object, embed, [onerror], [onmouseover], [style]").count() == 0
    links = md.locator("a")
    assert {links.nth(i).get_attribute("href") for i in range(links.count())} == {"https://example.org/docs"}
    assert all(links.nth(i).get_attribute("rel") == "noopener noreferrer nofollow" for i in range(links.count()))

    # prodding it does nothing either
    hostile.get_by_text("md link").click()
    hostile.get_by_text("entity link").click()
    hostile.get_by_text("raw block").hover()
    page.keyboard.press("1")  # and the page still works
    page.locator(".candidate.chosen").wait_for()
    assert page.url.startswith(f"{site.url}/app/")
    assert watch.dialogs == [] and watch.errors == [] and console_errors == []
    assert elsewhere == []


def test_a_long_conversation_scrolls_in_its_pane_with_the_last_turn_in_view(page: Any, site: Site, watch: Watch) -> None:
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}: " + "words " * 30} for i in range(40)]
    turns[-1] = {"role": "user", "content": "the very last question?"}
    schema = schema_with(PREFERENCE, conversation=True)
    _owner, [ann], pid = feedback_project(site, schema, [{"id": "long", "chat": turns,
                                                         "responses": ["answer one", "answer two"]}])
    open_workbench(page, site, ann, pid)
    pane = page.locator(".chat")
    pane.get_by_text("the very last question?").wait_for()
    box = pane.evaluate("el => [el.scrollHeight, el.clientHeight, el.scrollTop]")
    scroll_height, client_height, scroll_top = box
    assert scroll_height > 2 * client_height  # it scrolls inside the pane ...
    assert scroll_top + client_height >= scroll_height - 1  # ... scrolled to the end
    last = page.locator(".chat .turn").last.bounding_box()
    frame = pane.bounding_box()
    assert frame["y"] <= last["y"] and last["y"] + last["height"] <= frame["y"] + frame["height"] + 1
    assert page.locator(".chat .turn").first.locator(".turn-role").inner_text().lower() == "user"
    # the page itself is not 40 turns tall: the responses come right after the pane
    responses = page.locator(".candidates").bounding_box()
    assert responses["y"] < frame["y"] + frame["height"] + 200
    assert watch.errors == []


def _positions(page: Any) -> list[dict[str, float]]:
    panes = page.locator(".candidates article.candidate")
    return [panes.nth(i).bounding_box() for i in range(panes.count())]


def test_side_by_side_or_stacked_is_remembered_per_person(browser: Any, page: Any, site: Site, watch: Watch) -> None:
    records = [{"id": f"l{i}", "prompt": "p", "responses": ["one", "two"]} for i in range(2)]
    _owner, [ann, bob], pid = feedback_project(site, schema_with(PREFERENCE), records, annotators=2,
                                           overlap=2)
    open_workbench(page, site, ann, pid)
    sides(page)
    a, b = _positions(page)
    assert a["y"] == b["y"] and a["x"] < b["x"]  # wide screen: side by side
    page.get_by_role("button", name="Stacked").click()
    page.locator(".candidates.stacked").wait_for()
    a, b = _positions(page)
    assert a["x"] == b["x"] and a["y"] < b["y"]
    page.reload()
    page.locator(".candidates.stacked").wait_for()  # remembered

    other = browser.new_context(viewport={"width": 1200, "height": 860})
    narrow = browser.new_context(viewport={"width": 600, "height": 860})
    try:
        p2 = other.new_page()
        open_workbench(p2, site, bob, pid)
        p2.locator(".candidates.columns").wait_for()  # another person: their own default
        p3 = narrow.new_page()
        log_in(p3, site, bob, f"p/{pid}/label")
        p3.locator(".candidates.stacked").wait_for()  # a narrow screen stacks until they choose
        p3.get_by_role("button", name="Side by side").click()
        p3.locator(".candidates.columns").wait_for()
    finally:
        other.close()
        narrow.close()
    assert watch.errors == []


MARKDOWN = """# A heading

Some *emphasis*, **strong**, ~~struck~~, `inline code` and &amp; &#233; &copy; entities.

- one
- two

3. three
4. four

> a quote

| left | right |
|:-----|------:|
| a    |     b |

Visit https://example.org/auto or <https://example.org/angle> or [mail](mailto:someone@example.org).
"""


def test_ordinary_markdown_renders_as_its_elements(page: Any, site: Site, watch: Watch) -> None:
    _owner, [ann], pid = feedback_project(site, schema_with(PREFERENCE), [{"id": "m", "prompt": MARKDOWN,
                                                                           "responses": [MARKDOWN, "short"]}])
    open_workbench(page, site, ann, pid)
    for md in (page.locator(".prompt"), page.locator(".candidate[data-response='r1'] .md")):
        md.locator("table").wait_for()
        assert md.locator(".md-h1").inner_text() == "A heading"
        assert md.locator("h1, h2, h3").count() == 0  # headings do not join the page's outline
        assert md.locator("em").inner_text() == "emphasis" and md.locator("strong").inner_text() == "strong"
        assert md.locator("del").inner_text() == "struck" and md.locator("code").first.inner_text() == "inline code"
        assert "& é © entities" in md.inner_text()
        assert md.locator("ul li").all_inner_texts() == ["one", "two"]
        assert md.locator("ol").get_attribute("start") == "3"
        assert md.locator("blockquote").inner_text() == "a quote"
        assert md.locator("th.md-right").inner_text() == "right" and md.locator("td.md-left").inner_text() == "a"
        hrefs = [md.locator("a").nth(i).get_attribute("href") for i in range(md.locator("a").count())]
        assert hrefs == ["https://example.org/auto", "https://example.org/angle", "mailto:someone@example.org"]
    assert watch.errors == []
