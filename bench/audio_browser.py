"""Waveform benchmark: a cold page to a one-hour file's waveform on screen, in Debian's Chromium
(headless, software rendering, as the browser tests run it).

Set-up: a one-hour 16-bit WAV (16 kHz mono unless told: 115 MB; its peaks are one bucket per
10 ms whatever the rate, 720 KB) imported from a folder into a fresh project on a temporary
SQLite data directory, then a real server on it. Each run opens a cold page: a new browser
context (empty cache) with the annotator's session cookie, navigation to the workbench, until the
first frame that shows the waveform: the page, its script, the task, the peaks (`?variant=peaks`)
and the file's duration (`/info`), parsed and drawn on the canvas (the page never decodes the
audio; its <audio> element reads only the original's header meanwhile). Measured in the page,
from the navigation's start (`performance.now()`'s origin): the widget marks the first drawing
(`data-drawn` on `.wave-stage`, and the performance mark `labelloop:waveform-drawn`), and the
frame after it ends (a `requestAnimationFrame`, then a message that arrives once that frame is
done). The median of `RUNS` runs after one warm-up run (not counted).

`waveform_open_ms_1h()` is the function bench/audio.py calls; run alone (`python
bench/audio_browser.py [--rate 44100] [--runs 10]`), this prints a table and, as its last line,
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audio_import import SCHEMA, write_wav
from web import ARGS, CHROMIUM, start_server

RUNS = 10
TARGET_MS = 1000.0
RATE = 16000
HOUR_S = 3600

# Installed before the app's own scripts run (through the DevTools protocol, so the page's CSP does
# not apply): notes when the widget says it drew the waveform, and when the frame after it ends.
RECORDER = """(() => {
    const rec = window.__waveform = {};
    const seen = () => {
        if (rec.drawn !== undefined || !document.querySelector('.wave-stage[data-drawn]')) return;
        rec.drawn = performance.now();
        const mark = performance.getEntriesByName('labelloop:waveform-drawn')[0];
        rec.mark = mark ? mark.startTime : null;
        requestAnimationFrame(() => {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => { rec.shown = performance.now(); };
            ch.port2.postMessage(0);
        });
    };
    new MutationObserver(seen).observe(document, { childList: true, subtree: true, attributes: true,
                                                   attributeFilter: ['data-drawn'] });
})();"""


def set_up(data: Path, rate: int) -> tuple[int, int]:
    """(project id, WAV bytes): an hour of audio imported from a folder by the import service."""
    from labelloop.config import Settings
    from labelloop.services import projects
    from labelloop.services.accounts import users
    from labelloop.services.importing import writer
    from labelloop.services.jobs import create_job
    from labelloop.services.policy import Actor
    from labelloop.services.runtime import Runtime

    folder = data.parent / "clips"
    folder.mkdir()
    write_wav(folder / "hour.wav", HOUR_S, rate, 1)
    size = (folder / "hour.wav").stat().st_size
    rt = Runtime(Settings(_env_file=None, data_dir=data,  # type: ignore[call-arg]
                          database_url=f"sqlite:///{data / 'labelloop.db'}"))
    rt.migrate()
    op = Actor.operator()

    def go(conn: Any) -> tuple[int, int]:
        u = users.create_user(conn, op, "bench", password="bench-password")
        p = projects.create_project(conn, op, "waveform bench", SCHEMA, overlap=1, lease_seconds=3600)
        projects.set_member(conn, op, p.id, u.id, "owner")
        return p.id, create_job(conn, op, p.id, "import", {}, foreground=True).id

    pid, job = rt.db.run(go)
    writer.import_file(rt.db, op, pid, folder, job_id=job, blobs=rt.blobs)
    (folder / "hour.wav").unlink()
    rt.close()
    return pid, size


def open_runs(url: str, pid: int, runs: int) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    http = httpx.Client(base_url=url, timeout=60)
    r = http.post("/api/auth/session", json={"username": "bench", "password": "bench-password"})
    r.raise_for_status()
    jar = [{"name": k, "value": v, "url": url} for k, v in http.cookies.items()]
    out: list[dict[str, Any]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(runs + 1):  # the first cold page warms the server's caches: not counted
            context = browser.new_context(viewport={"width": 1366, "height": 900})  # empty cache
            context.add_cookies(jar)
            context.add_init_script(RECORDER)
            page = context.new_page()
            page.goto(f"{url}/app/#/p/{pid}/label", wait_until="commit")
            deadline = time.monotonic() + 60
            while not page.evaluate("window.__waveform && window.__waveform.shown"):
                if time.monotonic() > deadline:
                    raise SystemExit("the waveform never showed: " + page.locator("body").inner_text()[:500])
                page.wait_for_timeout(5)
            rec = page.evaluate("window.__waveform")
            # What the page fetched: the peaks in full, of the original only what <audio> read so far.
            rec["fetched"] = page.evaluate(
                "performance.getEntriesByType('resource').filter((e) => e.name.includes('/blobs/'))"
                ".map((e) => [e.name.split('/blobs/')[1].slice(64), e.encodedBodySize])")
            out.append(rec)
            context.close()
        browser.close()
    return out[1:]


def waveform_open_ms_1h(runs: int = RUNS, rate: int = RATE) -> dict[str, Any]:
    """{'waveform_open_ms_1h': median ms from a cold page to a one-hour file's waveform on screen, ...}."""
    with tempfile.TemporaryDirectory(prefix="labelloop-bench-waveform-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        pid, wav_bytes = set_up(data, rate)
        proc, url = start_server(data)
        try:
            got = open_runs(url, pid, runs)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    shown = [r["shown"] for r in got]
    return {
        "waveform_open_ms_1h": round(statistics.median(shown), 1),
        "waveform_open_p90_ms_1h": round(float(np.percentile(shown, 90)), 1),
        "waveform_open_max_ms_1h": round(max(shown), 1),
        "waveform_drawn_ms_1h": round(statistics.median(r["drawn"] for r in got), 1),
        "waveform_runs": len(got),
        "waveform_audio": f"{HOUR_S} s WAV, {rate} Hz mono 16-bit, {wav_bytes} bytes",
        "waveform_fetched": got[0]["fetched"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--rate", type=int, default=RATE)
    args = parser.parse_args()
    result = waveform_open_ms_1h(args.runs, args.rate)
    print(f"{'measure':<28}{'ms':>8}")
    for k in ("waveform_open_ms_1h", "waveform_open_p90_ms_1h", "waveform_open_max_ms_1h",
              "waveform_drawn_ms_1h"):
        print(f"{k:<28}{result[k]:>8.1f}")
    print(f"{result['waveform_audio']}; runs: {result['waveform_runs']}; "
          f"fetched: {result['waveform_fetched']}")
    met = result["waveform_open_ms_1h"] < TARGET_MS
    print(f"target median < {TARGET_MS:.0f} ms: {'yes' if met else 'NO'}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
