"""Failed sign-ins are limited per account and per client address, in the database.

Both ways in count: `POST /api/auth/login` (a token) and `POST /api/auth/session` (a browser).
Windows are ended by moving the stored window start into the past, never by waiting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, update

from labelloop.api.app import create_app
from labelloop.services.accounts.sign_in import account_key
from labelloop.services.runtime import Runtime
from labelloop.store.models import sign_in_failures, utcnow
from tests.platform.conftest import make_settings
from tests.platform.world import World

PASSWORD = "the-right-password"
LOGIN = "/api/auth/login"
SESSION = "/api/auth/session"


def attempt(client: TestClient, username: str, password: str, path: str = LOGIN,
            **headers: str) -> httpx.Response:
    return client.post(path, json={"username": username, "password": password}, headers=headers)


def end_windows(runtime: Runtime) -> None:
    with runtime.db.write() as conn:
        conn.execute(update(sign_in_failures).values(window_start=utcnow() - timedelta(hours=1)))


def assert_locked(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert error["type"] == "too_many_attempts" and error["problems"] == []
    # The default window is 15 minutes and began with this test's first failure, seconds ago: what
    # is left of it, not a fixed pause (each test takes well under two minutes).
    assert 900 - 120 <= int(r.headers["retry-after"]) <= 900
    assert f"try again in {r.headers['retry-after']} seconds" in error["message"]


@contextmanager
def instance(tmp_path: Path, database_url: str, name: str, **settings: object) -> Iterator[TestClient]:
    """A server of its own on the shared database, as another uvicorn worker would be."""
    folder = tmp_path / name
    folder.mkdir()
    rt = Runtime(make_settings(folder, database_url, **settings))
    try:
        with TestClient(create_app(rt)) as client:
            yield client
    finally:
        rt.close()


def test_ten_failures_lock_the_account_even_for_the_right_password(world: World) -> None:
    world.user("alice", password=PASSWORD)
    for _ in range(10):
        assert attempt(world.client, "alice", "wrong-password").status_code == 401
    assert_locked(attempt(world.client, "alice", PASSWORD))
    locked = attempt(world.client, "alice", PASSWORD, SESSION)  # the browser's way in shares the count
    assert_locked(locked)
    assert not locked.headers.get_list("set-cookie")
    end_windows(world.runtime)
    assert attempt(world.client, "alice", PASSWORD).status_code == 200


def test_the_browser_sign_in_counts_failures_too(world: World) -> None:
    world.user("alice", password=PASSWORD)
    for i in range(10):
        path = SESSION if i % 2 else LOGIN
        assert attempt(world.client, "alice", "wrong-password", path).status_code == 401
    assert_locked(attempt(world.client, "alice", PASSWORD, SESSION))


def test_unknown_usernames_are_counted_and_answered_the_same_way(world: World) -> None:
    world.user("alice", password=PASSWORD)
    answers = {}
    for name in ("alice", "nobody"):
        for _ in range(10):
            r = attempt(world.client, name, "wrong-password")
            assert r.status_code == 401
        answers[name] = attempt(world.client, name, "wrong-password")
        assert_locked(answers[name])
    digits = re.compile(r"\d+")
    alice, nobody = (digits.sub("N", answers[n].text) for n in ("alice", "nobody"))
    assert alice == nobody  # nothing says which of the two exists


def test_a_successful_sign_in_clears_the_account_failures(world: World) -> None:
    world.user("alice", password=PASSWORD)
    for _ in range(9):
        assert attempt(world.client, "alice", "wrong-password").status_code == 401
    assert attempt(world.client, "alice", PASSWORD, SESSION).status_code == 201
    for _ in range(10):  # a fresh allowance: the 9 earlier typos are forgotten
        assert attempt(world.client, "alice", "wrong-password").status_code == 401
    assert_locked(attempt(world.client, "alice", "wrong-password"))


def test_a_locked_account_is_refused_without_extending_its_window(world: World) -> None:
    world.user("alice", password=PASSWORD)
    for _ in range(10):
        attempt(world.client, "alice", "wrong-password")
    for _ in range(20):  # an attacker keeps going: each is refused and changes nothing
        assert_locked(attempt(world.client, "alice", "wrong-password"))
    with world.runtime.db.read() as conn:
        failures = conn.execute(select(sign_in_failures.c.failures)
                                .where(sign_in_failures.c.key == account_key("alice"))).scalar_one()
    assert failures == 10
    end_windows(world.runtime)
    assert attempt(world.client, "alice", PASSWORD).status_code == 200


def test_the_address_limit_stops_guessing_across_many_usernames(
    tmp_path: Path, database_url: str, world: World
) -> None:
    world.user("alice", password=PASSWORD)
    with instance(tmp_path, database_url, "a", sign_in_max_failures_per_address=5) as client:
        for i in range(5):
            # X-Forwarded-For is anyone's to write, so it does not make a new address
            r = attempt(client, f"someone{i}", "wrong-password", **{"X-Forwarded-For": f"10.0.0.{i}"})
            assert r.status_code == 401
        assert_locked(attempt(client, "alice", PASSWORD))
    other = TestClient(create_app(world.runtime), client=("192.0.2.7", 50000))
    with other:
        assert attempt(other, "alice", PASSWORD).status_code == 200  # another address is not locked


def test_successful_sign_ins_do_not_use_up_the_address_allowance(
    tmp_path: Path, database_url: str, world: World
) -> None:
    world.user("alice", password=PASSWORD)
    with instance(tmp_path, database_url, "a", sign_in_max_failures_per_address=3) as client:
        for _ in range(6):
            assert attempt(client, "alice", PASSWORD).status_code == 200
        for _ in range(3):
            assert attempt(client, "mallory", "wrong-password").status_code == 401
        assert_locked(attempt(client, "mallory", "wrong-password"))


def test_the_limit_holds_across_server_processes(tmp_path: Path, database_url: str, world: World) -> None:
    world.user("alice", password=PASSWORD)
    with instance(tmp_path, database_url, "a") as a, instance(tmp_path, database_url, "b") as b:
        for i in range(10):
            assert attempt(a if i % 2 else b, "alice", "wrong-password").status_code == 401
        assert_locked(attempt(a, "alice", PASSWORD))
        assert_locked(attempt(b, "alice", PASSWORD, SESSION))


def test_ended_windows_are_pruned(world: World) -> None:
    long_ago = utcnow() - timedelta(days=1)
    with world.runtime.db.write() as conn:
        conn.execute(insert(sign_in_failures), [
            {"key": f"address:198.51.100.{i}", "failures": 3, "window_start": long_ago} for i in range(100)
        ])
    assert attempt(world.client, "nobody", "wrong-password").status_code == 401
    with world.runtime.db.read() as conn:
        keys = set(conn.execute(select(sign_in_failures.c.key)).scalars())
        count = conn.execute(select(func.count()).select_from(sign_in_failures)).scalar_one()
    assert count == 2 and keys == {account_key("nobody"), "address:testclient"}
