"""A small factory for test worlds: users with tokens, projects with members, imports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import update

from labelloop.services import projects
from labelloop.services.accounts import tokens, users
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime
from labelloop.store.models import jobs, utcnow

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [
        {"name": "sentiment", "type": "choice", "options": ["pos", "neg", "neu"]},
        {"name": "topics", "type": "multi_choice", "options": ["a", "b", "c"], "required": False},
        {"name": "stars", "type": "rating", "min": 1, "max": 5, "required": False},
        {"name": "note", "type": "text", "required": False},
    ],
}
OPERATOR = Actor.operator()


@dataclass
class User:
    id: int
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class World:
    def __init__(self, runtime: Runtime, client: TestClient) -> None:
        self.runtime = runtime
        self.client = client
        self._n = 0

    def user(self, name: str | None = None, *, admin: bool = False, password: str | None = None) -> User:
        self._n += 1
        name = name or f"user{self._n}"

        def go(conn: Any) -> User:
            u = users.create_user(conn, OPERATOR, name, password=password, is_admin=admin)
            t = tokens.create_token(conn, OPERATOR, u.id, "test")
            return User(u.id, name, t.secret)

        return self.runtime.db.run(go)

    def project(
        self,
        owner: User,
        *,
        schema: dict[str, Any] | None = None,
        overlap: int = 1,
        lease_seconds: int = 600,
        members: dict[str, tuple[User, ...]] | None = None,
        name: str | None = None,
    ) -> int:
        self._n += 1

        def go(conn: Any) -> int:
            actor = Actor(owner.id, owner.name, False)
            p = projects.create_project(conn, actor, name or f"project {self._n}", schema or SCHEMA,
                                        overlap=overlap, lease_seconds=lease_seconds)
            for role, people in (members or {}).items():
                for person in people:
                    projects.set_member(conn, OPERATOR, p.id, person.id, role)
            return p.id

        return self.runtime.db.run(go)

    def upload(self, user: User, project_id: int, body: bytes, filename: str, **params: Any) -> httpx.Response:
        return self.client.post(
            f"/api/projects/{project_id}/imports",
            params={"filename": filename, "wait": "true", **params},
            content=body,
            headers=user.headers,
        )

    def import_records(self, user: User, project_id: int, records: list[dict[str, Any]]) -> httpx.Response:
        body = b"".join(json.dumps(r).encode() + b"\n" for r in records)
        r = self.upload(user, project_id, body, "items.jsonl")
        assert r.status_code == 201, r.text
        return r

    def cut_off(self, job_id: int) -> None:
        """The process running the job dies: its heartbeat stops (an hour ago, so it is stale)."""
        with self.runtime.db.write() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id)
                         .values(heartbeat_at=utcnow() - timedelta(hours=1)))

    def next(self, user: User, project_id: int, **body: Any) -> httpx.Response:
        return self.client.post(f"/api/projects/{project_id}/tasks/next", json=body or None,
                                headers=user.headers)

    def submit(self, user: User, project_id: int, item_id: int, value: dict[str, Any],
               key: str | None = None, **extra: Any) -> httpx.Response:
        headers = dict(user.headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(f"/api/projects/{project_id}/items/{item_id}/answers",
                                json={"value": value, **extra}, headers=headers)
