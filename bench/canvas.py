"""Canvas benchmark: frame time while dragging one box among 500 on a 6000 x 4000 photo, in Debian's
Chromium (headless, software rendering, as the browser tests run it).

Set-up: a real server, a project with one bbox question, a 6000 x 4000 JPEG imported as a stored
image (the page shows its 2048 px preview stretched over the original's pixels), and 500 boxes
on it, put in the annotator's draft so the workbench restores them (the same answer the canvas
would hold after drawing them). Then the mouse (real input through the DevTools protocol) drags
one box in `MOVES` steps, waiting for each frame to be drawn.

A frame's time is measured in the page, from the pointer event to the end of the frame it
caused: a capturing `pointermove` listener notes the time, a `requestAnimationFrame` callback
then posts a message, and the message arrives once that frame's style, layout and paint are done.
Chromium delivers pointer moves aligned to frames, so this is the main thread's work for the
frame: the page's handler, Preact's render, the browser's rendering. Raster and compositing run
on other threads. The figure is the 95th percentile (`canvas_frame_ms_500`); a 60 Hz screen has
16.7 ms per frame.

First image (`first_image_ms`): a project whose one item is a 12-megapixel JPEG (4000 x 3000)
uploaded through the import endpoint (the server makes its 2048 px preview there). Each run opens
a cold page: a new browser context (empty cache) with the annotator's session cookie, navigation
to the workbench, until the first frame that shows the picture: the page, its script, the task,
the blob's size (`/info`) and its preview, decoded (the page decodes the picture before drawing
it, so the first frame with it is complete). Measured in the page, from the navigation's start
(`performance.now()`'s origin): the stage's `<image>` element has loaded and decoded, and the
frame after it has been drawn (a `requestAnimationFrame`, then a message that arrives once that
frame is done). The median of `FIRST_IMAGE_RUNS` runs after one warm-up run (not counted);
`first_image_driver_ms` is the same from the test driver's side (with its polling).

`canvas_frame_time()` and `first_image_time()` are the functions bench/images.py calls; run
alone, this prints a table and, as its last line, one JSON object.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labelloop.config import Settings
from labelloop.services import projects
from labelloop.services.accounts import users
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime
from web import ARGS, CHROMIUM, start_server

WIDTH, HEIGHT = 6000, 4000
OBJECTS = 500
MOVES = 120
TARGET_MS = 16.0
PHOTO_12MP = (4000, 3000)
FIRST_IMAGE_RUNS = 20
FIRST_IMAGE_TARGET_MS = 1000.0
SCHEMA = {
    "fields": [{"name": "photo", "type": "image"}],
    "questions": [{"name": "boxes", "type": "bbox", "target": "photo", "labels": ["car", "person", "bike"]}],
}

# Installed in the page through the DevTools protocol (the page's CSP forbids eval, not this).
RECORDER = """() => {
    if (window.__canvasFrames) return void (window.__canvasFrames.frames = []);
    const rec = { frames: [], pending: false };
    window.__canvasFrames = rec;
    addEventListener('pointermove', () => {
        if (rec.pending) return;  // one measure per frame
        rec.pending = true;
        const start = performance.now();
        requestAnimationFrame(() => {
            const frame = performance.now();
            const ch = new MessageChannel();
            ch.port1.onmessage = () => {
                const end = performance.now();
                rec.frames.push({ input: end - start, frame: end - frame });
                rec.pending = false;
            };
            ch.port2.postMessage(0);
        });
    }, { capture: true });
}"""
NEXT_FRAME = "() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))"


def photo(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A JPEG with structure (gradients and noise), made here: 6000 x 4000 unless told."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    arr = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], axis=-1).astype(np.int16)
    arr += rng.integers(-20, 20, size=arr.shape, dtype=np.int16)
    buf = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def boxes(n: int = OBJECTS, seed: int = 0) -> list[dict[str, Any]]:
    """n boxes of 40 to 400 px across the image, the first one at a known place (the one dragged)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = [{"label": "car", "box": [2800, 1800, 3200, 2200]}]
    while len(out) < n:
        w, h = rng.randint(40, 400), rng.randint(40, 400)
        x, y = rng.randint(0, WIDTH - w), rng.randint(0, HEIGHT - h)
        out.append({"label": rng.choice(["car", "person", "bike"]), "box": [x, y, x + w, y + h]})
    return out


def set_up(data: Path, url: str, image: bytes | None = None) -> tuple[int, int, int, dict[str, str]]:
    """(user id, project id, item id, session cookies) of an annotator with one photo to label."""
    rt = Runtime(Settings(_env_file=None, data_dir=data, database_url=f"sqlite:///{data / 'labelloop.db'}"))
    op = Actor.operator()

    def go(conn: Any) -> tuple[int, int]:
        u = users.create_user(conn, op, "bench", password="bench-password")
        p = projects.create_project(conn, op, "canvas bench", SCHEMA, overlap=1, lease_seconds=3600)
        projects.set_member(conn, op, p.id, u.id, "owner")
        return u.id, p.id

    uid, pid = rt.db.run(go)
    rt.close()
    http = httpx.Client(base_url=url, timeout=120)
    r = http.post("/api/auth/session", json={"username": "bench", "password": "bench-password"})
    r.raise_for_status()
    cookies = dict(http.cookies)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("big.jpg", photo() if image is None else image)
    r = http.post(f"/api/projects/{pid}/imports", params={"filename": "photos.zip", "wait": "true"},
                  content=buf.getvalue(), headers={"X-CSRF-Token": cookies["labelloop_csrf"]})
    r.raise_for_status()
    [item] = http.get(f"/api/projects/{pid}/items").json()
    return uid, pid, int(item["id"]), cookies


def drag_frames(page: Any, start: tuple[float, float], *, moves: int = MOVES) -> list[dict[str, float]]:
    """Drag from `start` (page pixels) in small steps; the recorder's measures, one per frame."""
    page.evaluate(RECORDER)
    page.mouse.move(*start)
    page.mouse.down()
    for i in range(1, moves + 1):
        page.mouse.move(start[0] + 2 * i, start[1] + i)
        page.evaluate(NEXT_FRAME)
    page.mouse.up()
    return list(page.evaluate("window.__canvasFrames.frames"))


def measure(url: str, uid: int, pid: int, item_id: int, cookies: dict[str, str]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    saved = int(time.time() * 1000)
    draft = {f"{pid}/{item_id}": {"value": {"boxes": boxes()}, "suggested": [], "savedAt": saved}}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
        page = context.new_page()
        page.goto(f"{url}/app/#/p/{pid}/label")
        page.locator(".canvas-svg image").wait_for()
        page.evaluate("([k, v]) => localStorage.setItem(k, v)",
                      [f"labelloop.outbox.{uid}.drafts", json.dumps(draft)])
        page.reload()
        page.locator(f".canvas-svg [data-obj='{OBJECTS - 1}']").wait_for()
        centre = page.evaluate("""() => {
            const m = document.querySelector('.canvas-svg g.view').getScreenCTM();
            const p = new DOMPoint(3000, 2000).matrixTransform(m);
            return [p.x, p.y];
        }""")
        drag_frames(page, (centre[0], centre[1]), moves=20)  # warm-up: not counted
        page.keyboard.press("Backspace")  # the page's undo puts the box back
        frames = drag_frames(page, (centre[0], centre[1]))
        shown = page.locator(".canvas-svg [data-obj]").count()
        page.keyboard.press("Backspace")
        context.close()
        browser.close()
    return {"frames": frames, "objects_shown": shown}


# The choice of SVG, measured: the same scene (the preview stretched over 6000 x 4000, 500 boxes,
# one dragged) drawn both ways in a bare page, outside the app. SVG: one element per box, the
# dragged one's attributes set. Canvas 2D: the whole picture drawn again each frame.
BARE_PAGE = """<!doctype html><body style="margin:0">
<div id="host" style="width:1200px"></div>
<script>
const W = 6000, H = 4000, boxes = %s, mode = %s, src = %s;
const host = document.getElementById('host');
let drag = null;
if (mode === 'svg') {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.style.width = '1200px'; svg.style.display = 'block';
  const img = document.createElementNS(ns, 'image');
  img.setAttribute('href', src); img.setAttribute('width', W); img.setAttribute('height', H);
  svg.appendChild(img);
  const rects = boxes.map(([x1, y1, x2, y2]) => {
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('x', x1); r.setAttribute('y', y1);
    r.setAttribute('width', x2 - x1); r.setAttribute('height', y2 - y1);
    r.setAttribute('fill', 'rgba(76,141,255,.12)'); r.setAttribute('stroke', '#4c8dff');
    r.setAttribute('stroke-width', 2); r.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.appendChild(r); return r;
  });
  host.appendChild(svg);
  drag = (dx, dy) => {
    rects[0].setAttribute('x', boxes[0][0] + dx); rects[0].setAttribute('y', boxes[0][1] + dy);
  };
} else {
  const c = document.createElement('canvas');
  c.width = 1200; c.height = 800; host.appendChild(c);
  const g = c.getContext('2d');
  const img = new Image(); img.src = src;
  const k = 1200 / W;
  const draw = (dx, dy) => {
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.drawImage(img, 0, 0, 1200, 800);
    g.setTransform(k, 0, 0, k, 0, 0);
    g.lineWidth = 2 / k; g.strokeStyle = '#4c8dff'; g.fillStyle = 'rgba(76,141,255,.12)';
    boxes.forEach(([x1, y1, x2, y2], i) => {
      const [ox, oy] = i === 0 ? [dx, dy] : [0, 0];
      g.fillRect(x1 + ox, y1 + oy, x2 - x1, y2 - y1); g.strokeRect(x1 + ox, y1 + oy, x2 - x1, y2 - y1);
    });
  };
  img.onload = () => draw(0, 0);
  drag = draw;
}
addEventListener('pointermove', (e) => { if (e.buttons) drag(e.clientX * 5, e.clientY * 5); });
</script>"""


def rendering_comparison() -> dict[str, float]:
    """p95 frame time of the bare SVG and canvas-2D pages: what chose SVG."""
    import base64

    from playwright.sync_api import sync_playwright

    preview = Image.open(io.BytesIO(photo()))
    preview.thumbnail((2048, 2048))
    buf = io.BytesIO()
    preview.save(buf, "JPEG", quality=85)
    src = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    scene = [o["box"] for o in boxes()]
    out: dict[str, float] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for mode in ("svg", "canvas2d"):
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.set_content(BARE_PAGE % (json.dumps(scene), json.dumps(mode), json.dumps(src)))
            page.wait_for_timeout(500)
            drag_frames(page, (600, 400), moves=20)
            frames = drag_frames(page, (600, 400))
            out[f"bare_{mode}_p95_ms_500"] = round(p95([f["input"] for f in frames]), 2)
            page.close()
        browser.close()
    return out


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def canvas_frame_time() -> dict[str, Any]:
    """{'canvas_frame_ms_500': p95 of the frame time while dragging one box among 500, ...}."""
    with tempfile.TemporaryDirectory(prefix="labelloop-bench-canvas-") as tmp:
        data = Path(tmp)
        proc, url = start_server(data)
        try:
            uid, pid, item_id, cookies = set_up(data, url)
            got = measure(url, uid, pid, item_id, cookies)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    inputs = [f["input"] for f in got["frames"]]
    frames = [f["frame"] for f in got["frames"]]
    return {
        "canvas_frame_ms_500": round(p95(inputs), 2),
        "canvas_frame_median_ms_500": round(statistics.median(inputs), 2),
        "canvas_render_p95_ms_500": round(p95(frames), 2),
        "canvas_frames": len(inputs),
        "canvas_objects": got["objects_shown"],
    }


# Installed before the app's own scripts run (through the DevTools protocol, so the page's CSP does
# not apply): notes when the stage's picture has loaded and decoded, and when the frame after it ends.
FIRST_IMAGE_RECORDER = """(() => {
    const rec = window.__firstImage = {};
    const watch = () => {
        const el = document.querySelector('.canvas-svg image');
        if (!el || rec.attached !== undefined) return;
        rec.attached = performance.now();
        const shown = () => {
            rec.decoded = performance.now();
            requestAnimationFrame(() => {
                const ch = new MessageChannel();
                ch.port1.onmessage = () => { rec.shown = performance.now(); };
                ch.port2.postMessage(0);
            });
        };
        const loaded = () => (el.decode ? el.decode() : Promise.resolve()).then(shown, shown);
        el.addEventListener('load', loaded, { once: true });
        el.addEventListener('error', () => { rec.error = true; }, { once: true });
    };
    new MutationObserver(watch).observe(document, { childList: true, subtree: true });
})();"""


def first_image_runs(url: str, pid: int, cookies: dict[str, str], runs: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    out: list[dict[str, float]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        jar = [{"name": k, "value": v, "url": url} for k, v in cookies.items()]
        for _ in range(runs + 1):  # the first cold page warms the server's caches: not counted
            context = browser.new_context(viewport={"width": 1366, "height": 900})  # empty cache
            context.add_cookies(jar)
            context.add_init_script(FIRST_IMAGE_RECORDER)
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(f"{url}/app/#/p/{pid}/label", wait_until="commit")
            deadline = time.monotonic() + 30
            done = "window.__firstImage && (window.__firstImage.shown || window.__firstImage.error)"
            while not page.evaluate(done):
                if time.monotonic() > deadline:
                    raise SystemExit("the first image never showed")
                page.wait_for_timeout(5)
            driver = (time.perf_counter() - t0) * 1000
            rec = page.evaluate("window.__firstImage")
            if rec.get("error"):
                raise SystemExit("the first image failed to load")
            # What the page fetched for the picture: the preview, not the 12 MP original.
            fetched = page.evaluate(
                "performance.getEntriesByType('resource').filter((e) => e.name.includes('/blobs/'))"
                ".map((e) => [e.name.split('?')[1] || 'info', e.encodedBodySize])")
            out.append({"shown": rec["shown"], "decoded": rec["decoded"], "attached": rec["attached"],
                        "driver": driver, "fetched": fetched})
            context.close()
        browser.close()
    return out[1:]


def first_image_time(runs: int = FIRST_IMAGE_RUNS) -> dict[str, Any]:
    """{'first_image_ms': median time from a cold page to the first frame showing a 12 MP upload, ...}."""
    with tempfile.TemporaryDirectory(prefix="labelloop-bench-first-image-") as tmp:
        data = Path(tmp)
        proc, url = start_server(data)
        try:
            image = photo(*PHOTO_12MP)
            _uid, pid, _item, cookies = set_up(data, url, image)
            got = first_image_runs(url, pid, cookies, runs)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    shown = [r["shown"] for r in got]
    return {
        "first_image_ms": round(statistics.median(shown), 1),
        "first_image_p90_ms": round(float(np.percentile(shown, 90)), 1),
        "first_image_max_ms": round(max(shown), 1),
        "first_image_attached_ms": round(statistics.median(r["attached"] for r in got), 1),
        "first_image_driver_ms": round(statistics.median(r["driver"] for r in got), 1),
        "first_image_runs": len(got),
        "first_image_upload_bytes": len(image),
        "first_image_pixels": PHOTO_12MP[0] * PHOTO_12MP[1],
        "first_image_fetched": got[0]["fetched"],
    }


def main() -> None:
    if "--first-image" in sys.argv:
        result = first_image_time()
        print(f"{'measure':<28}{'ms':>8}")
        for k in ("first_image_ms", "first_image_p90_ms", "first_image_max_ms", "first_image_attached_ms",
                  "first_image_driver_ms"):
            print(f"{k:<28}{result[k]:>8.1f}")
        print(f"runs: {result['first_image_runs']}, target median < {FIRST_IMAGE_TARGET_MS:.0f} ms: "
              f"{'yes' if result['first_image_ms'] < FIRST_IMAGE_TARGET_MS else 'NO'}")
        print(json.dumps(result))
        return
    result = canvas_frame_time()
    if "--compare" in sys.argv:
        result.update(rendering_comparison())
    print(f"{'measure':<28}{'ms':>8}")
    for k in ("canvas_frame_ms_500", "canvas_frame_median_ms_500", "canvas_render_p95_ms_500",
              "bare_svg_p95_ms_500", "bare_canvas2d_p95_ms_500"):
        if k not in result:
            continue
        print(f"{k:<28}{result[k]:>8.2f}")
    print(f"frames measured: {result['canvas_frames']}, objects: {result['canvas_objects']}, "
          f"target p95 < {TARGET_MS:.0f} ms: {'yes' if result['canvas_frame_ms_500'] < TARGET_MS else 'NO'}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
