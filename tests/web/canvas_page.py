"""Shape questions in the browser: projects over images made here with Pillow and imported as
stored files (a zip of images), and the page's own mapping from image pixels to the screen, so
that a test points at image coordinates and checks the stored ones exactly."""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from tests.web.site import Person, Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_for_the_end, wait_until


def photo(width: int, height: int, *, seed: int = 0) -> bytes:
    """A PNG with a gradient and a grid (something to see, nothing from the network)."""
    y, x = np.mgrid[0:height, 0:width]
    arr = np.stack([(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)),
                    np.full_like(x, (seed * 37) % 256)], axis=-1).astype(np.uint8)
    arr[(x % 100 == 0) | (y % 100 == 0)] = 255
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def import_images(site: Site, owner: Person, pid: int, images: dict[str, bytes]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in images.items():
            z.writestr(name, data)
    r = site.http.post(f"/api/projects/{pid}/imports", params={"filename": "photos.zip", "wait": "true"},
                       content=buf.getvalue(), headers=owner.headers)
    assert r.status_code == 201, r.text


def image_project(site: Site, questions: list[dict[str, Any]], *, size: tuple[int, int] = (640, 480),
                  count: int = 1) -> tuple[Person, Person, int]:
    owner, ann = site.person("owner"), site.person("ann")
    schema = {"fields": [{"name": "photo", "type": "image", "label": "Photo"}], "questions": questions}
    pid = site.project(owner, schema, members={"annotator": [ann]})
    import_images(site, owner, pid, {f"img{i}.png": photo(*size, seed=i) for i in range(count)})
    return owner, ann, pid


def open_canvas(page: Any, site: Site, who: Person, pid: int) -> None:
    log_in(page, site, who, f"p/{pid}/label")
    page.locator(".canvas-svg").wait_for()
    wait_until(page, "document.querySelector('.canvas-svg image') !== null")


def screen(page: Any, x: float, y: float) -> tuple[float, float]:
    """Where image pixel (x, y) is on the page now (the layer's screen matrix)."""
    p = page.evaluate(
        """([x, y]) => {
            const m = document.querySelector('.canvas-svg g.view').getScreenCTM();
            const p = new DOMPoint(x, y).matrixTransform(m);
            return [p.x, p.y];
        }""",
        [x, y],
    )
    return float(p[0]), float(p[1])


def px_per_image_px(page: Any) -> float:
    return float(page.evaluate("document.querySelector('.canvas-svg g.view').getScreenCTM().a"))


def click(page: Any, x: float, y: float) -> None:
    page.mouse.click(*screen(page, x, y))


def drag(page: Any, a: tuple[float, float], b: tuple[float, float], *, steps: int = 6) -> None:
    """Press at image point a, move to b in steps, release."""
    page.mouse.move(*screen(page, *a))
    page.mouse.down()
    page.mouse.move(*screen(page, *b), steps=steps)
    page.mouse.up()


def objects(page: Any) -> int:
    return int(page.locator(".shape-list > li").count())


def wait_objects(page: Any, n: int) -> None:
    wait_until(page, f"document.querySelectorAll('.shape-list > li').length === {n}")


def submit_and_get(page: Any, site: Site, owner: Person, pid: int) -> dict[str, Any]:
    """Enter, then the one stored answer's value."""
    page.keyboard.press("Enter")
    wait_for_the_end(page)
    [stored] = site.answers(owner, pid, expect=1)
    return dict(stored["value"])


def restore_draft(page: Any, site: Site, owner: Person, ann: Person, pid: int, value: dict[str, Any]) -> None:
    """Put `value` in the annotator's draft for the project's one item and reload: the workbench
    restores it, as after a reload mid-way (a quick way to have hundreds of objects on screen)."""
    [item] = site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    draft = {f"{pid}/{item['id']}": {"value": value, "suggested": [], "savedAt": 0}}
    page.evaluate("([k, v]) => localStorage.setItem(k, JSON.stringify(v))",
                  [f"labelloop.outbox.{ann.id}.drafts", draft])
    page.reload()
    page.get_by_text("Restored what you had entered").wait_for()


def brush_rule(h: int, w: int, points: Sequence[Sequence[float]], r: float) -> np.ndarray:
    """The canvas's brush rule, written again here: pixel (x, y) is painted when its centre
    (x + 1/2, y + 1/2) is within r of the polyline through the points (one point: a disc)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    out = np.zeros((h, w), dtype=bool)
    for (ax, ay), (bx, by) in list(itertools.pairwise(points)) or [(points[0], points[0])]:
        dx, dy = bx - ax, by - ay
        len2 = dx * dx + dy * dy
        t = np.clip(((xx - ax) * dx + (yy - ay) * dy) / len2, 0, 1) if len2 else np.zeros_like(xx)
        ex, ey = xx - (ax + t * dx), yy - (ay + t * dy)
        out |= ex * ex + ey * ey <= r * r
    return out
