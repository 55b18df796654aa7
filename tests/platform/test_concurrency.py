"""32 annotators over real HTTP work a 2,000-item project with overlap 3 until it is done,
with random skips, abandoned (expiring) leases, late answers and retried submits.

At the end every item has exactly 3 answers from 3 distinct annotators, every answer the
server acknowledged is stored exactly once, and the server logged no error.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from labelloop.services import projects
from labelloop.services.accounts import tokens, users
from labelloop.services.policy import Actor
from labelloop.store.db import Database
from labelloop.store.models import answers, assignments, items
from tests.platform.live import LiveServer, live_server

ANNOTATORS = 32
ITEMS = 2000
OVERLAP = 3
LEASE_SECONDS = 1
OPERATOR = Actor.operator()


def setup_project(db: Database) -> tuple[int, str, list[tuple[int, str]]]:
    def go(conn: Any) -> tuple[int, str, list[tuple[int, str]]]:
        owner = users.create_user(conn, OPERATOR, "owner")
        p = projects.create_project(
            conn, Actor(owner.id, "owner"), "crowd",
            {"fields": [{"name": "text"}],
             "questions": [{"name": "label", "type": "choice", "options": ["a", "b", "c"]}]},
            overlap=OVERLAP, lease_seconds=LEASE_SECONDS,
        )
        owner_token = tokens.create_token(conn, OPERATOR, owner.id, "t").secret
        crowd = []
        for i in range(ANNOTATORS):
            u = users.create_user(conn, OPERATOR, f"annotator{i}")
            projects.set_member(conn, OPERATOR, p.id, u.id, "annotator")
            crowd.append((u.id, tokens.create_token(conn, OPERATOR, u.id, "t").secret))
        return p.id, owner_token, crowd

    return db.run(go)


class Annotator(threading.Thread):
    def __init__(self, server: LiveServer, pid: int, token: str, seed: int, done: threading.Event) -> None:
        super().__init__(daemon=True)
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=60)
        self.pid = pid
        self.rng = random.Random(seed)
        self.done = done
        self.acked: dict[str, int] = {}  # idempotency key -> answer id the server acknowledged
        self.unexpected: list[str] = []
        self.counts: Counter[str] = Counter()

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        r = self.http.request(method, f"/api/projects/{self.pid}{path}", **kw)
        if r.status_code >= 500:
            self.unexpected.append(f"{method} {path}: {r.status_code} {r.text}")
        return r

    def run(self) -> None:
        abandoned: list[int] = []
        try:
            while not self.done.is_set():
                r = self.call("POST", "/tasks/next", json={"exclude": abandoned[-2:]})
                if r.status_code in (204, 409):  # nothing for me now, or I hold too many
                    self.counts["idle"] += 1
                    time.sleep(0.2)
                    continue
                if r.status_code != 200:
                    self.unexpected.append(f"next: {r.status_code} {r.text}")
                    continue
                self.work(r.json()["item_id"], abandoned)
        except Exception as e:  # a thread must not die silently
            self.unexpected.append(f"crashed: {e!r}")
        finally:
            self.http.close()

    def work(self, item_id: int, abandoned: list[int]) -> None:
        roll = self.rng.random()
        if roll < 0.05:
            self.counts["skip"] += 1
            r = self.call("POST", f"/items/{item_id}/skip", json={"reason": "test"})
            if r.status_code != 204:
                self.unexpected.append(f"skip: {r.status_code} {r.text}")
            return
        if roll < 0.09:
            self.counts["abandon"] += 1  # walk away; the lease expires after a second
            abandoned.append(item_id)
            return
        if roll < 0.11:
            self.counts["late"] += 1
            time.sleep(LEASE_SECONDS + 0.3)  # answer after the lease ran out
        key = str(uuid.uuid4())
        body = {"value": {"label": self.rng.choice("abc")}, "duration_ms": self.rng.randint(100, 9000)}
        tries = 2 if self.rng.random() < 0.15 else 1  # a retry, as after a lost response
        ids = set()
        for _ in range(tries):
            r = self.call("POST", f"/items/{item_id}/answers", json=body, headers={"Idempotency-Key": key})
            if r.status_code in (200, 201):
                ids.add(r.json()["id"])
            elif r.status_code == 409:
                self.counts["refused_late"] += 1  # lease lost and the item filled up meanwhile
            else:
                self.unexpected.append(f"submit: {r.status_code} {r.text}")
        if len(ids) > 1:
            self.unexpected.append(f"retry created a second answer: {ids}")
        if ids:
            self.acked[key] = ids.pop()
            self.counts["submitted"] += 1
            self.counts["retried"] += tries - 1


@pytest.mark.server
def test_crowd_of_32_completes_the_project_exactly(tmp_path: Path, database_url: str) -> None:
    db = Database(database_url)
    try:
        pid, owner_token, crowd = setup_project(db)
        with live_server(tmp_path, database_url, workers=2) as server:
            body = b"".join(json.dumps({"id": f"i{n}", "text": f"item {n}"}).encode() + b"\n"
                            for n in range(ITEMS))
            r = httpx.post(f"{server.url}/api/projects/{pid}/imports",
                           params={"filename": "items.jsonl", "wait": "true"}, content=body,
                           headers={"Authorization": f"Bearer {owner_token}"}, timeout=120)
            assert r.status_code == 201, r.text

            done = threading.Event()
            workers = [Annotator(server, pid, token, seed, done) for seed, (_, token) in enumerate(crowd)]
            for w in workers:
                w.start()
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                with db.read() as conn:
                    remaining = conn.execute(
                        select(items.c.id).where(items.c.project_id == pid,
                                                 items.c.answer_count < items.c.needed).limit(1)
                    ).first()
                if remaining is None:
                    break
                time.sleep(0.5)
            done.set()
            for w in workers:
                w.join(timeout=60)
            log = server.log_text()

        problems = [p for w in workers for p in w.unexpected]
        assert problems == []
        totals = sum((w.counts for w in workers), Counter())
        assert totals["skip"] > 0 and totals["abandon"] > 0 and totals["late"] > 0 and totals["retried"] > 0

        with db.read() as conn:
            stored = conn.execute(
                select(answers.c.id, answers.c.item_id, answers.c.user_id, answers.c.idempotency_key)
                .where(answers.c.project_id == pid)
            ).all()
            item_rows = conn.execute(select(items).where(items.c.project_id == pid)).all()
            live_leases = conn.execute(
                select(assignments.c.id).where(assignments.c.state == "leased",
                                               assignments.c.project_id == pid)
            ).all()
        assert len(item_rows) == ITEMS
        per_item: dict[int, list[int]] = {}
        for a in stored:
            per_item.setdefault(a.item_id, []).append(a.user_id)
        for row in item_rows:
            who = per_item.get(row.id, [])
            assert len(who) == OVERLAP, f"item {row.external_id} has {len(who)} answers"
            assert len(set(who)) == OVERLAP, f"item {row.external_id} answered twice by one annotator"
            assert row.answer_count == OVERLAP and not row.is_open
            # whatever is still reserved beyond the answers is a live lease, never an over-assignment
            assert row.reserved == OVERLAP
        acked = {key: answer_id for w in workers for key, answer_id in w.acked.items()}
        assert {a.idempotency_key: a.id for a in stored} == acked  # none lost, none extra
        assert len(stored) == ITEMS * OVERLAP
        assert live_leases == []
        for marker in ("Traceback", "ERROR", "Exception"):
            assert marker not in log, log[-5000:]
    finally:
        db.dispose()
