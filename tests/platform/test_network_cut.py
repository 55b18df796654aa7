"""With the network cut, the real server imports, labels, learns, suggests and exports.

The server process (and every Python process it starts) runs with the socket guard of
`tests/platform/netguard` on its path: any connection, datagram or name lookup off the loopback
fails and is written down. The test drives a whole project through HTTP as a team would, with
the built-in models (hashed TF-IDF, and the MiniLM sentence encoder that ships in a registry
package), then reads the record: nothing tried to leave. A first call that must go out (an
OpenID Connect provider on the internet) proves the guard is really in the server and records.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from labelloop.config import Settings
from labelloop.services.accounts import tokens, users
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime
from tests.platform.live import live_server

pytestmark = pytest.mark.server

GUARD = Path(__file__).parent / "netguard"
ROOT = Path(__file__).resolve().parents[2]
INNER = "LABELLOOP_TEST_IN_NETWORK_NAMESPACE"
SCHEMA = {"fields": [{"name": "text"}],
          "questions": [{"name": "topic", "type": "choice", "options": ["sport", "food"]}]}
WORDS = {"sport": ["match", "goal", "team", "score", "coach", "league", "player", "stadium"],
         "food": ["recipe", "dinner", "sauce", "bread", "kitchen", "flavour", "spicy", "bake"]}


def guarded_env(record: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(GUARD), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "LABELLOOP_TEST_NETWORK_GUARD": str(record)}


def attempts(record: Path) -> list[dict[str, Any]]:
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines() if line.strip()]


def test_the_guard_refuses_and_records_every_way_out(tmp_path: Path) -> None:
    record = tmp_path / "record.jsonl"
    probe = """
import socket, urllib.request
out = []
for what, go in [
    ("connect", lambda: socket.socket().connect(("192.0.2.1", 80))),
    ("dns", lambda: socket.getaddrinfo("example.org", 443)),
    ("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53))),
    ("http", lambda: urllib.request.urlopen("http://example.org/", timeout=1)),
]:
    try:
        go(); out.append(what + ": got out")
    except OSError as e:
        out.append(what + ": " + ("cut" if "network cut" in str(e) else str(e)))
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
socket.create_connection(s.getsockname(), timeout=1).close()
out.append("loopback: ok")
print("; ".join(out))
"""
    done = subprocess.run([sys.executable, "-c", probe], env={**os.environ, **guarded_env(record)},
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "connect: cut; dns: cut; udp: cut; http: cut; loopback: ok", done.stderr
    seen = [(a["what"], a["where"]) for a in attempts(record)]
    assert seen == [("connect", "('192.0.2.1', 80)"), ("getaddrinfo", "'example.org'"),
                    ("sendto", "('8.8.8.8', 53)"), ("getaddrinfo", "'example.org'")]


def _text(topic: str, rng: random.Random) -> str:
    words = rng.sample(WORDS[topic], 4) + rng.sample(["the", "a", "today", "very", "again", "then"], 3)
    rng.shuffle(words)
    return " ".join(words)


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json() if r.content and r.headers.get("content-type", "").startswith("application/json") else r


def test_a_whole_project_runs_with_the_network_cut(tmp_path: Path, database_url: str) -> None:
    record = tmp_path / "record.jsonl"
    outside = [{"name": "outside", "issuer": "https://idp.example.org/realms/team", "client_id": "x",
                "redirect_url": "http://127.0.0.1/api/auth/oidc/outside/callback"}]
    env = {**guarded_env(record), "LABELLOOP_OIDC_PROVIDERS": json.dumps(outside)}
    with live_server(tmp_path, database_url, env=env) as server:
        rt = Runtime(Settings(_env_file=None, data_dir=tmp_path, database_url=database_url))  # type: ignore[call-arg]
        try:
            def make(conn: Any) -> str:
                user = users.create_user(conn, Actor.operator(), "owner", is_admin=True)
                return tokens.create_token(conn, Actor.operator(), user.id, "net").secret
            secret = rt.db.run(make)
        finally:
            rt.close()
        api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=120)

        # The guard is in the server: a provider on the internet is refused, clearly, and recorded.
        r = api.get("/api/auth/oidc/outside/start", follow_redirects=False)
        assert r.status_code == 302
        shown = parse_qs(urlsplit(r.headers["location"]).query)["sign_in_error"][0]
        assert "'outside' cannot be reached at https://idp.example.org/" in shown and "network cut" in shown
        assert [a["what"] for a in attempts(record)] == ["getaddrinfo"]
        record.unlink()

        pid = _ok(api.post("/api/projects", json={"name": "offline", "label_schema": SCHEMA}), 201)["id"]
        _ok(api.patch(f"/api/projects/{pid}", json={
            "quality": {"review_below": 0.0},
            "loop": {"min_labels": 10, "suggest_min_accuracy": None, "autolabel_target": None}}))
        rng = random.Random(4)
        truth = {f"t{i:03d}": rng.choice(list(WORDS)) for i in range(60)}
        lines = "".join(json.dumps({"id": k, "text": _text(v, rng)}) + "\n" for k, v in truth.items())
        job = _ok(api.post(f"/api/projects/{pid}/imports", params={"filename": "offline.jsonl", "wait": "true"},
                           content=lines.encode()), 201)
        assert job["result"]["created"] == 60
        for _ in range(24):
            task = _ok(api.post(f"/api/projects/{pid}/tasks/next"))
            _ok(api.post(f"/api/projects/{pid}/items/{task['item_id']}/answers",
                         json={"value": {"topic": truth[task["external_id"]]}}), 201)

        for encoder in ("hashed-tfidf", "minilm"):
            _ok(api.patch(f"/api/projects/{pid}", json={"loop": {"encoder": encoder}}))
            done = _ok(api.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}))
            assert done["status"] == "succeeded", (encoder, done)
            assert done["result"].get("trained", True), (encoder, done["result"])
        # The last round's model suggests on the next task: a pre-label made with the network cut.
        task = _ok(api.post(f"/api/projects/{pid}/tasks/next"))
        assert task["prelabel"]["value"]["topic"] in WORDS

        for fmt in ("jsonl", "csv", "parquet"):
            r = api.get(f"/api/projects/{pid}/export", params={"format": fmt})
            assert r.status_code == 200 and len(r.content) > 1000, (fmt, r.status_code)
        exported = [json.loads(line) for line in api.get(f"/api/projects/{pid}/export",
                                                         params={"format": "jsonl"}).text.splitlines()]
        assert len(exported) == 60 and sum(bool(e["answers"]) for e in exported) == 24

    assert attempts(record) == [], "something tried to leave"


def _namespaces_allowed() -> bool:
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(bool(os.environ.get(INNER)), reason="this run is the one inside the namespace")
def test_the_whole_project_also_runs_in_a_network_namespace() -> None:
    """The same run in a namespace with only a loopback (`unshare -rn`): native code is cut too.

    Where the kernel refuses unprivileged namespaces this is skipped; the socket guard above
    runs everywhere. Inside, the database is SQLite: a PostgreSQL server outside is out of reach.
    """
    if not _namespaces_allowed():
        pytest.skip("unprivileged network namespaces are not allowed here (unshare -rn)")
    env = {k: v for k, v in os.environ.items() if k != "LABELLOOP_TEST_DATABASE_URL"}
    test = f"{Path(__file__).relative_to(ROOT)}::test_a_whole_project_runs_with_the_network_cut"
    script = f"ip link set lo up && exec {sys.executable} -m pytest -q -p no:cacheprovider {test}"
    done = subprocess.run(["unshare", "-rn", "sh", "-c", script], env={**env, INNER: "1"}, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-4000:] + done.stderr[-2000:]
