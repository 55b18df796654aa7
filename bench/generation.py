"""The generation benchmark: candidates per second from a model server that answers in 50 ms.

    .venv/bin/python bench/generation.py

A stub OpenAI-compatible server of the benchmark's own (`http.server` in a thread) answers every
chat completion after LATENCY seconds with the `n` choices asked. A project on a fresh SQLite
database holds ITEMS prompts; the generation job (labelloop.services.generation) fills each with
K = 4 candidates, one request per item (`n = 4`), written one item per transaction. Timed from the
job's start to its end, scan and writes included, at concurrency 1, 4 (the default) and 16.
With 50 ms a request the ceiling is concurrency / 0.05 requests a second: 20, 80 and 320.

`generation_throughput()` is what `make bench-feedback` calls (bench/feedback.py):
`generation_items_per_s` is the figure at the default concurrency. Prints a table, writes
bench/results/generation.json, and prints one JSON object as the last line. Nothing is asserted.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from labelloop.config import Settings
from labelloop.services import projects
from labelloop.services.generation.job import run_generation
from labelloop.services.generation.settings import GenerationSettings, update_generation
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime

LATENCY = 0.05
ITEMS = 200
K = 4
CONCURRENCIES = (1, 4, 16)
DEFAULT_CONCURRENCY = int(GenerationSettings.model_fields["concurrency"].default)
RESULTS = Path(__file__).resolve().parent / "results"
SCHEMA = {
    "fields": [{"name": "prompt", "type": "text"},
               {"name": "responses", "type": "responses", "required": False}],
    "questions": [{"name": "better", "type": "choice", "options": ["first", "second"]}],
}
OPERATOR = Actor.operator()


class _Chat(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server
    # Headers and body go out as two writes: with Nagle's algorithm the body would wait for the
    # client's delayed ACK (40 ms on Linux), a latency no real server adds.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(LATENCY)
        n = int(body.get("n", 1))
        prompt = body["messages"][-1]["content"]
        raw = json.dumps({
            "object": "chat.completion", "model": "stub-llm",
            "choices": [{"index": i, "message": {"role": "assistant", "content": f"answer {i} to {prompt}"},
                         "finish_reason": "stop"} for i in range(n)],
            "usage": {"prompt_tokens": 12, "completion_tokens": 20 * n, "total_tokens": 12 + 20 * n},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


def _project(rt: Runtime, name: str, url: str, concurrency: int, folder: Path) -> int:
    pid = rt.db.run(lambda c: projects.create_project(c, OPERATOR, name, SCHEMA).id)
    path = rt.spool_path(f"{name}.jsonl")
    lines = (json.dumps({"id": f"p{i}", "prompt": f"Question {i}: why is the sky blue?"})
             for i in range(ITEMS))
    path.write_text("".join(line + "\n" for line in lines))
    job = rt.start_import(OPERATOR, pid, path, filename=f"{name}.jsonl")
    assert rt.wait_for(job.id).status == "succeeded"
    rt.db.run(lambda c: update_generation(c, OPERATOR, pid, {
        "base_url": url, "model": "stub-llm", "candidates": K, "concurrency": concurrency}))
    return pid


def _run(concurrency: int) -> dict[str, float]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Chat)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rt = Runtime(Settings(_env_file=None, data_dir=Path(tmp)))  # type: ignore[call-arg]
            try:
                rt.migrate()
                pid = _project(rt, f"bench c{concurrency}", url, concurrency, Path(tmp))
                start = time.perf_counter()
                result = run_generation(rt.db, OPERATOR, pid)
                seconds = time.perf_counter() - start
            finally:
                rt.close()
    finally:
        server.shutdown()
        server.server_close()
    assert result["completed"] == ITEMS and result["candidates"] == ITEMS * K, result
    return {"concurrency": concurrency, "seconds": round(seconds, 3),
            "items_per_s": round(ITEMS / seconds, 2),
            "requests_per_s": round(result["requests"] / seconds, 2),
            "candidates_per_s": round(ITEMS * K / seconds, 2),
            "ceiling_requests_per_s": round(concurrency / LATENCY, 1)}


def generation_throughput(concurrencies: tuple[int, ...] = CONCURRENCIES) -> dict[str, Any]:
    """Items a second filled with K = 4 candidates at the default concurrency (and the others')."""
    rows = [_run(c) for c in sorted({*concurrencies, DEFAULT_CONCURRENCY})]
    default = next(r for r in rows if r["concurrency"] == DEFAULT_CONCURRENCY)
    return {"generation_items_per_s": default["items_per_s"],
            "generation_requests_per_s": default["requests_per_s"],
            "generation_concurrency": DEFAULT_CONCURRENCY,
            "generation_by_concurrency": rows}


def main() -> None:
    out = generation_throughput()
    print(f"generation: {ITEMS} items, K={K} candidates, stub server answering in {LATENCY * 1000:.0f} ms")
    print(f"{'concurrency':>11} {'seconds':>8} {'items/s':>8} {'requests/s':>11} {'candidates/s':>13} "
          f"{'ceiling req/s':>14}")
    for r in out["generation_by_concurrency"]:
        print(f"{r['concurrency']:>11} {r['seconds']:>8.2f} {r['items_per_s']:>8.1f} "
              f"{r['requests_per_s']:>11.1f} {r['candidates_per_s']:>13.1f} "
              f"{r['ceiling_requests_per_s']:>14.0f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "generation.json").write_text(json.dumps(out, indent=2) + "\n")
    sys.stdout.flush()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
