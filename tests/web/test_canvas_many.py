"""500 boxes on a 6000 x 4000 photo stay usable: all drawn, one picked out with the mouse and
moved, another reached with Tab and deleted, and the rest stored untouched."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.web.canvas_page import drag, import_images, open_canvas, restore_draft, submit_and_get
from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.waits import wait_until

W, H = 6000, 4000
QUESTION = {"name": "boxes", "type": "bbox", "target": "photo", "labels": ["car", "person"]}


def grid(n: int = 500) -> list[dict[str, Any]]:
    """25 x 20 boxes of 200 x 150 px, in cells of 240 x 200."""
    return [{"label": "car" if i % 3 else "person", "box": [x * 240, y * 200, x * 240 + 200, y * 200 + 150]}
            for i, (y, x) in enumerate((i // 25, i % 25) for i in range(n))]


def test_five_hundred_boxes_on_a_large_photo(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    schema = {"fields": [{"name": "photo", "type": "image"}], "questions": [QUESTION]}
    pid = site.project(owner, schema, members={"annotator": [ann]})
    buf = io.BytesIO()
    Image.new("RGB", (W, H), (90, 120, 150)).save(buf, "JPEG", quality=80)
    import_images(site, owner, pid, {"big.jpg": buf.getvalue()})
    open_canvas(page, site, ann, pid)
    # The page shows the 2048 px preview, drawn over the original's 6000 x 4000 pixels.
    assert page.locator(".canvas-svg").get_attribute("viewBox") == f"0 0 {W} {H}"
    assert "variant=preview" in (page.locator(".canvas-svg image").get_attribute("href") or "")

    boxes = grid()
    restore_draft(page, site, owner, ann, pid, {"boxes": boxes})
    wait_until(page, "document.querySelectorAll('.canvas-svg [data-obj]').length === 500")
    assert page.locator(".shape-list > li").count() == 500

    # The box in row 10, column 12 (object 263) picked with the mouse and dragged 60 px right, 40 down.
    drag(page, (12 * 240 + 100, 10 * 200 + 75), (12 * 240 + 160, 10 * 200 + 115))
    page.locator(".shape-list li.sel", has_text="263:").wait_for()
    # Tab twice: objects 264 and 265; Delete removes 265.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.locator(".shape-list li.sel", has_text="265:").wait_for()
    page.keyboard.press("Delete")
    wait_until(page, "document.querySelectorAll('.canvas-svg [data-obj]').length === 499")

    value = submit_and_get(page, site, owner, pid)
    want = [dict(b) for b in boxes]
    want[262] = {**want[262], "box": [12 * 240 + 60, 10 * 200 + 40, 12 * 240 + 260, 10 * 200 + 190]}
    del want[264]
    assert value == {"boxes": want}
    assert watch.dialogs == [] and watch.errors == []
