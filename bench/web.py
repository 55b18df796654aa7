"""Web benchmark: how fast the annotator's page shows work, in Debian's Chromium.

- first task (cold page): a fresh browser context (empty cache) with a session cookie, from
  navigation to the first item's form on screen. Target: under 1 s.
- next task: from the key press that submits an answer to the next item on screen (the
  page prefetches it, and the answer goes to the outbox). Target: under 100 ms.
Each is the median of 50 runs, measured from the test driver (so it includes the driver's own
round trip to the browser). Prints a table; the last line is one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from labelloop.config import Settings
from labelloop.services import projects
from labelloop.services.accounts import users
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime

RUNS = 50
TARGETS = {"first_task_ms": 1000.0, "next_task_ms": 100.0}
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
RESULTS = Path(__file__).resolve().parent / "results" / "web.json"
SCHEMA = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [
        {"name": "sentiment", "type": "choice", "options": ["positive", "negative", "neutral"]},
        {"name": "stars", "type": "rating", "min": 1, "max": 5, "required": False},
    ],
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "LABELLOOP_DATA_DIR": str(data), "LABELLOOP_PORT": str(port),
           "LABELLOOP_ACCESS_LOG": "false", "LABELLOOP_DATABASE_URL": f"sqlite:///{data / 'labelloop.db'}"}
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "labelloop", "serve"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start: " + (data / "server.log").read_text())


def set_up(data: Path, url: str) -> tuple[int, dict[str, str]]:
    """An annotator with a session cookie, and a project with enough items for every run."""
    rt = Runtime(Settings(_env_file=None, data_dir=data, database_url=f"sqlite:///{data / 'labelloop.db'}"))
    op = Actor.operator()

    def go(conn: Any) -> int:
        u = users.create_user(conn, op, "bench", password="bench-password")
        p = projects.create_project(conn, op, "web bench", SCHEMA, overlap=1, lease_seconds=600)
        projects.set_member(conn, op, p.id, u.id, "owner")  # labels, and may import the items
        return p.id

    pid = rt.db.run(go)
    rt.close()
    http = httpx.Client(base_url=url)
    r = http.post("/api/auth/session", json={"username": "bench", "password": "bench-password"})
    r.raise_for_status()
    cookies = dict(http.cookies)
    body = "".join(json.dumps({"id": f"b{i}", "text": f"Review {i}: a film with moments of grace."}) + "\n"
                   for i in range(RUNS + 20))
    r = http.post(f"/api/projects/{pid}/imports", params={"filename": "b.jsonl", "wait": "true"},
                  content=body.encode(), headers={"X-CSRF-Token": cookies["labelloop_csrf"]})
    r.raise_for_status()
    return pid, cookies


def measure(url: str, pid: int, cookies: dict[str, str]) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    page_url = f"{url}/app/#/p/{pid}/label"
    first: list[float] = []
    nxt: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        jar = [{"name": k, "value": v, "url": url} for k, v in cookies.items()]
        for _ in range(RUNS + 1):  # the first cold load warms the server's caches; not counted
            context = browser.new_context()  # an empty cache: a cold page
            context.add_cookies(jar)
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(page_url, wait_until="commit")
            page.locator("form.task").wait_for()
            first.append((time.perf_counter() - t0) * 1000)
            context.close()
        first = first[1:]

        context = browser.new_context()
        context.add_cookies(jar)
        page = context.new_page()
        page.goto(page_url)
        for i in range(RUNS + 1):
            form = page.locator("form.task")
            form.wait_for()
            item = form.get_attribute("data-item")
            page.keyboard.press(str(i % 3 + 1))
            page.locator(f"form.task[data-item='{item}'] .option.on").first.wait_for()
            page.wait_for_timeout(50)  # let the prefetch land, as it does while a person reads
            t0 = time.perf_counter()
            page.keyboard.press("Enter")
            page.locator(f"form.task:not([data-item='{item}'])").wait_for()
            nxt.append((time.perf_counter() - t0) * 1000)
        nxt = nxt[1:]
        page.get_by_text("All answers saved").wait_for()
        context.close()
        browser.close()
    return {"first_task_ms": first, "next_task_ms": nxt}


def main() -> None:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="labelloop-bench-web-") as tmp:
        data = Path(tmp)
        proc, url = start_server(data)
        try:
            pid, cookies = set_up(data, url)
            samples = measure(url, pid, cookies)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    result = {k: round(statistics.median(v), 1) for k, v in samples.items()}
    table = Table(title=f"labelloop web app in Chromium (median of {RUNS})")
    for col in ("measure", "median ms", "p90 ms", "max ms", "target ms", "ok"):
        table.add_column(col)
    for k, v in samples.items():
        p90 = statistics.quantiles(v, n=10)[-1]
        table.add_row(k, f"{result[k]:.1f}", f"{p90:.1f}", f"{max(v):.1f}", f"< {TARGETS[k]:.0f}",
                      "yes" if result[k] < TARGETS[k] else "NO")
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**result, "runs": RUNS, "samples": samples}, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
