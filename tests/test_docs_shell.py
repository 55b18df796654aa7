"""The docs' shell blocks that use the `labelloop` command run, with bash, as written: the README's
quick tour, the audit log's commands, the encryption key and retention blocks, and the OpenID
Connect set-up that ends in `labelloop serve` (started, answered, stopped). Each runs in a folder
of its own with `LABELLOOP_DATA_DIR` there and the venv's `labelloop` first on the PATH; the files
a block reads are written first, and a path outside the test's folder (`/etc/labelloop/`) is moved
into it. (The client's remote-mode block runs in tests/test_docs_client.py, against its server;
every `labelloop` line is also parsed in tests/test_docs_site.py, and every curl call is checked
and sent in tests/platform/test_docs_http_calls.py.)"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
TWEETS = [{"id": f"t{i}", "text": f"tweet number {i}", "meta": {"lang": "en"}} for i in range(1, 6)]


def block(page: str, holding: str) -> str:
    """The bash block of `page` that holds `holding`."""
    text = (ROOT / page).read_text()
    found = [b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if holding in b]
    assert len(found) == 1, f"{page}: {len(found)} bash blocks hold {holding!r}"
    return found[0]


def environment(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELLOOP_")}
    return {**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}", "COLUMNS": "200",
            "LABELLOOP_DATA_DIR": str(folder / "data"), **extra}


def run(script: str, folder: Path, env: dict[str, str]) -> str:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}\n{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return done.stdout


def test_the_quick_tour_and_the_audit_commands_run(tmp_path: Path) -> None:
    (tmp_path / "tweets.jsonl").write_text("".join(json.dumps(t) + "\n" for t in TWEETS))
    env = environment(tmp_path)
    out = run(block("README.md", "labelloop user create alice"), tmp_path, env)
    assert "Tweets" in out
    table = pq.read_table(tmp_path / "tweets.parquet").to_pylist()
    assert sorted(r["id"] for r in table) == [t["id"] for t in TWEETS]

    run(block("docs/audit.md", "labelloop audit anchor"), tmp_path, env)
    anchor = json.loads((tmp_path / "anchor-2026-11-29.json").read_text())
    entries = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert anchor["seq"] == len(entries) > 0
    assert {"user.create", "project.create"} <= {e["action"] for e in entries}


def test_the_key_and_retention_blocks_run(tmp_path: Path) -> None:
    env = environment(tmp_path)
    (tmp_path / "etc").mkdir()
    key_block = block("docs/data-protection.md", "labelloop encryption new-key").replace(
        "/etc/labelloop/", f"{tmp_path}/etc/")
    run(key_block, tmp_path, env)
    key = tmp_path / "etc" / "key"
    assert len(base64.b64decode(key.read_text().strip(), validate=True)) == 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    (tmp_path / "schema.yaml").write_text("fields: [{name: text}]\nquestions: [{name: topic, type: choice, options: [billing, bug]}]\n")
    run("labelloop project create 'Support tickets' --schema schema.yaml", tmp_path, env)
    out = run(block("docs/data-protection.md", "labelloop retention set"), tmp_path, env)
    assert "90" in out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_openid_connect_block_starts_a_server_that_offers_the_provider(tmp_path: Path) -> None:
    port = free_port()
    env = environment(tmp_path, LABELLOOP_PORT=str(port), LABELLOOP_ACCESS_LOG="false")
    script = block("docs/security.md", "labelloop serve")
    server = subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, providers = time.monotonic() + 90, None
        while providers is None:
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            assert time.monotonic() < deadline, "the server did not answer within 90 s"
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/auth/oidc/providers", timeout=2)
                providers = r.json() if r.status_code == 200 else None
            except httpx.TransportError:
                time.sleep(0.3)
        assert [p["name"] for p in providers] == ["keycloak"]
        assert providers[0]["label"] == "Team Keycloak"
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
