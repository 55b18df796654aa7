"""A real labelloop server for browser tests, and a few API calls to set up what they need."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from labelloop.services.accounts import tokens, users
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime

PASSWORD = "a-long-password"
_names = itertools.count(1)


@dataclass
class Person:
    id: int
    username: str
    token: str
    password: str = PASSWORD

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Site:
    url: str
    runtime: Runtime  # on the server's database, to create accounts directly
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def person(self, prefix: str = "user", *, admin: bool = False) -> Person:
        name = f"{prefix}{next(_names)}"

        def go(conn: Any) -> Person:
            u = users.create_user(conn, Actor.operator(), name, password=PASSWORD, is_admin=admin)
            t = tokens.create_token(conn, Actor.operator(), u.id, "test")
            return Person(u.id, name, t.secret)

        return self.runtime.db.run(go)

    def project(self, owner: Person, schema: dict[str, Any], *, overlap: int = 1, lease_seconds: int = 600,
                members: dict[str, list[Person]] | None = None) -> int:
        r = self.http.post("/api/projects", headers=owner.headers, json={
            "name": f"project {next(_names)}", "label_schema": schema, "overlap": overlap,
            "lease_seconds": lease_seconds})
        assert r.status_code == 201, r.text
        pid = int(r.json()["id"])
        for role, people in (members or {}).items():
            for p in people:
                r = self.http.put(f"/api/projects/{pid}/members/{p.id}", headers=owner.headers, json={"role": role})
                assert r.status_code == 200, r.text
        return pid

    def import_records(self, owner: Person, pid: int, records: list[dict[str, Any]]) -> None:
        body = b"".join(json.dumps(r).encode() + b"\n" for r in records)
        r = self.http.post(f"/api/projects/{pid}/imports", params={"filename": "items.jsonl", "wait": "true"},
                           content=body, headers=owner.headers)
        assert r.status_code == 201, r.text

    def answers(self, owner: Person, pid: int, *, expect: int | None = None) -> list[dict[str, Any]]:
        """The project's answers; with *expect*, once that many are stored (the page sends answers
        from its outbox after it has moved on, so the last one may still be on its way)."""
        deadline = time.monotonic() + 15
        while True:
            r = self.http.get(f"/api/projects/{pid}/answers", params={"limit": 1000}, headers=owner.headers)
            assert r.status_code == 200, r.text
            got = list(r.json())
            if expect is None or len(got) >= expect or time.monotonic() > deadline:
                return got
            time.sleep(0.05)

    def status(self, owner: Person, pid: int) -> dict[str, Any]:
        return dict(self.http.get(f"/api/projects/{pid}/status", headers=owner.headers).json())
