"""Search by meaning inside PostgreSQL with pgvector (services/curation/pg_vectors.py), on a real
PostgreSQL 16 with the extension (`pgserver`, started once for the module): the HNSW table's answers
against the exact in-process search, items deleted since the round, a second process reusing the
table, one builder at a time, a newer round replacing the table, who may search, and the fallback
to the in-process index for a role that may not create the extension."""

from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, event, select, text
from sqlalchemy.engine import make_url

from labelloop.api.app import create_app
from labelloop.curation.vector_index import VectorIndex
from labelloop.services.curation import pg_vectors, search
from labelloop.services.curation.round_vectors import round_embeddings
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime
from labelloop.store.db import Database
from labelloop.store.migrate import upgrade
from labelloop.store.models import Base, items, published_in
from tests.platform.conftest import make_settings
from tests.platform.world import User, World

pgserver = pytest.importorskip("pgserver")  # the `test` extra installs it

WORDS = ["film", "story", "cast", "plot", "music", "score", "scene", "actor", "drama", "comedy", "thriller",
         "ending", "script", "pace", "camera", "light", "colour", "voice", "humour", "tension", "family",
         "summer", "city", "night", "war", "love", "school", "robot", "ghost", "witness", "trial", "island",
         "road", "storm", "dream"]
RECORDS: list[dict[str, Any]] = [
    {"id": f"r{i}", "text": " ".join(np.random.default_rng(i).choice(WORDS, 12 + i % 9).tolist())}
    for i in range(120)
] + [
    {"id": "c", "text": "every frame of this animated fable looks hand painted and the songs are good"},
    {"id": "d", "text": "the courtroom drama drags until a sharp final act about a missing witness"},
]


@pytest.fixture(scope="module")
def pg() -> Iterator[Any]:
    """PostgreSQL 16 with pgvector in a temporary folder (a short path: its socket lives there)."""
    server = pgserver.get_server(tempfile.mkdtemp(prefix="llpgv"), cleanup_mode="delete")
    server.psql("CREATE DATABASE labelloop_vec;")
    yield server
    server.cleanup()


def url_of(server: Any, database: str, user: str = "postgres") -> str:
    url = make_url(server.get_uri()).set(drivername="postgresql+psycopg", database=database, username=user)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def migrated(pg: Any) -> str:
    url = url_of(pg, "labelloop_vec")
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    return url


@pytest.fixture
def database_url(migrated: str) -> str:
    """Overrides conftest's: every test of this module starts from an empty pgvector database."""
    db = Database(migrated)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        pg_vectors.drop_tables(conn)
    db.dispose()
    search.forget_indexes()
    return migrated


def setup(world: World) -> tuple[int, dict[str, User], dict[str, int]]:
    users = {role: world.user() for role in ("owner", "reviewer", "annotator", "outsider")}
    pid = world.project(users["owner"], members={"reviewer": (users["reviewer"],),
                                                 "annotator": (users["annotator"],)})
    world.import_records(users["owner"], pid, RECORDS)
    run_round(world, users["owner"], pid)
    with world.runtime.db.read() as conn:
        ids = {r.external_id: r.id for r in conn.execute(
            select(items.c.external_id, items.c.id).where(items.c.project_id == pid))}
    return pid, users, ids


def run_round(world: World, owner: User, pid: int) -> None:
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text


def get(world: World, user: User, pid: int, **params: Any) -> Any:
    return world.client.get(f"/api/projects/{pid}/search", params=params, headers=user.headers)


def exact_index(world: World, pid: int) -> tuple[VectorIndex, dict[int, np.ndarray]]:
    """The exact in-process search over the items still in the project, and their vectors."""
    with world.runtime.db.read() as conn:
        rows = conn.execute(select(items.c.id, items.c.data).where(published_in(pid)).order_by(items.c.id)).all()
    _enc, x, why_not = round_embeddings(world.runtime.db, pid, rows, ["text"], None,
                                        world.runtime.settings.data_dir)
    assert x is not None, why_not
    ids = np.array([r.id for r in rows])
    return VectorIndex.build(ids, x, exact=True), dict(zip(ids.tolist(), x, strict=True))


def table_of(world: World, pid: int) -> pg_vectors.VectorTable:
    (_encoder, index), = [v for k, v in search._indexes.items() if k[2] == pid]
    assert isinstance(index, pg_vectors.VectorTable)
    return index


def tables(db: Database) -> dict[str, int]:
    """The vector tables in the database and their oids."""
    with db.read() as conn:
        return {r.relname: int(r.oid) for r in conn.execute(text(
            "SELECT relname, oid FROM pg_class WHERE relkind = 'r' AND relname LIKE 'item_vectors%'"))}


def test_the_hnsw_table_answers_as_the_exact_search(world: World) -> None:
    pid, users, ids = setup(world)
    r = get(world, users["reviewer"], pid, like=ids["r0"], k=10)
    assert r.status_code == 200, r.text
    table = table_of(world, pid)
    version = table.name.rsplit("_", 1)[1]
    assert table.name == f"item_vectors_{pid}_{version}" and table.dim == 1024
    with world.runtime.db.read() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table.name}")).scalar() == len(RECORDS)
        indexdef = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE tablename = :t AND indexdef LIKE '%hnsw%'"),
                                {"t": table.name}).scalar()
    assert indexdef is not None and "vector_cosine_ops" in indexdef
    exact, vectors = exact_index(world, pid)
    # PostgreSQL scans a table this small rather than use its index: these connections may not,
    # so the answers below are the HNSW index's (as on a large project) and then the scan's.
    hnsw_only = Database(world.runtime.settings.database_url)
    event.listen(hnsw_only.engine, "connect", lambda dbapi, _rec: dbapi.execute("SET enable_seqscan = off"))
    try:
        with hnsw_only.read() as conn:
            literal = "[" + ",".join(map(repr, vectors[ids["r0"]].tolist())) + "]"
            plan = "\n".join(conn.execute(text(f"EXPLAIN SELECT item_id FROM {table.name} "
                                               f"ORDER BY embedding <=> '{literal}' LIMIT 200")).scalars())
        assert f"Index Scan using {table.name}_embedding_idx" in plan, plan
        for searched in (dataclasses.replace(table, db=hnsw_only), table):
            for item_id, x in vectors.items():
                want_ids, want_sims = exact.search(x, 10)
                got_ids, got_sims = searched.search(x, 10)
                assert got_ids.tolist() == want_ids.tolist(), item_id
                np.testing.assert_allclose(got_sims, want_sims, atol=1e-5)
    finally:
        hnsw_only.dispose()
    want_ids, want_sims = exact.search(vectors[ids["r0"]], 10)
    assert [f["item_id"] for f in r.json()] == want_ids.tolist()
    assert [f["similarity"] for f in r.json()] == [round(float(s), 4) for s in want_sims]
    assert r.json()[0] == {"item_id": ids["r0"], "external_id": "r0", "similarity": 1.0,
                           "preview": RECORDS[0]["text"]}
    found = get(world, users["owner"], pid, q="animated fable hand painted songs", k=2).json()
    assert found[0]["external_id"] == "c"
    assert [f["external_id"] for f in get(world, users["owner"], pid, q="courtroom witness", k=1).json()] == ["d"]


def test_items_deleted_after_the_round_are_not_returned(world: World) -> None:
    pid, users, ids = setup(world)
    before = [f["item_id"] for f in get(world, users["owner"], pid, like=ids["r5"], k=10).json()]
    gone = before[1:4]
    with world.runtime.db.write() as conn:
        conn.execute(delete(items).where(items.c.id.in_(gone)))
    after = get(world, users["owner"], pid, like=ids["r5"], k=10).json()
    assert not {f["item_id"] for f in after} & set(gone)
    exact, vectors = exact_index(world, pid)  # over the items left
    assert [f["item_id"] for f in after] == exact.search(vectors[ids["r5"]], 10)[0].tolist()
    assert len(after) == 10 and after[0]["item_id"] == ids["r5"]


def test_a_second_process_reuses_the_table(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    pid, users, ids = setup(world)
    first = get(world, users["owner"], pid, like=ids["r7"], k=5).json()
    built = tables(world.runtime.db)
    assert len(built) == 1
    search.forget_indexes()  # as a fresh worker: no index of its own
    other = Database(world.runtime.settings.database_url)

    def no_rebuild(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the table was there: nothing to read from the embedding cache")

    monkeypatch.setattr(search, "_batches", no_rebuild)
    try:
        reviewer = Actor(users["reviewer"].id, users["reviewer"].name, False)
        again = search.like(other, reviewer, pid, ids["r7"], 5, data_dir=world.runtime.settings.data_dir)
    finally:
        other.dispose()
    assert again == first
    assert tables(world.runtime.db) == built


def test_a_dropped_table_is_built_again(world: World) -> None:
    pid, users, ids = setup(world)
    first = get(world, users["owner"], pid, like=ids["r3"], k=5).json()
    (name,) = tables(world.runtime.db)
    with world.runtime.db.write() as conn:  # as erasure may: the vectors of erased content go
        assert pg_vectors.drop_tables(conn, pid + 1) == []
        assert pg_vectors.drop_tables(conn, pid) == [name]
    assert tables(world.runtime.db) == {}
    assert get(world, users["owner"], pid, like=ids["r3"], k=5).json() == first  # the cached handle
    assert list(tables(world.runtime.db)) == [name]


def test_one_builder_at_a_time(world: World) -> None:
    pid, _users, _ids = setup(world)
    reads: list[int] = []

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        reads.append(1)
        time.sleep(0.5)  # the other builder arrives while this one holds the lock
        rng = np.random.default_rng(1)
        yield np.arange(1, 51, dtype=np.int64), rng.normal(size=(50, 8)).astype(np.float32)

    dbs = [Database(world.runtime.settings.database_url) for _ in range(2)]
    assert pg_vectors.available(dbs[0])  # created here when this test runs alone
    found: list[Any] = [None, None]

    def build(i: int) -> None:
        found[i] = pg_vectors.vector_table(dbs[i], pid, 7, "test stamp", 8, batches)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for db in dbs:
        db.dispose()
    assert len(reads) == 1
    assert [(f.name, f.dim) for f in found] == [(f"item_vectors_{pid}_7", 8)] * 2
    # a table whose stamp names another round (a database restored since) is built again
    assert pg_vectors.vector_table(world.runtime.db, pid, 7, "another stamp", 8, batches) is not None
    assert len(reads) == 2


def test_a_newer_round_replaces_the_older_table(world: World) -> None:
    pid, users, ids = setup(world)
    get(world, users["owner"], pid, like=ids["r1"])
    (old,) = tables(world.runtime.db)
    world.import_records(users["owner"], pid, [{"id": "c-copy", "text": RECORDS[-2]["text"] + " indeed"}])
    run_round(world, users["owner"], pid)
    found = get(world, users["owner"], pid, like=ids["c"], k=2).json()
    assert [f["external_id"] for f in found] == ["c", "c-copy"]
    (new,) = tables(world.runtime.db)
    assert new != old and new.startswith(f"item_vectors_{pid}_")


def test_annotators_may_not_search_and_outsiders_do_not_see_the_project(world: World) -> None:
    pid, users, ids = setup(world)
    assert get(world, users["annotator"], pid, like=ids["r0"]).status_code == 403
    assert get(world, users["annotator"], pid, q="summer").status_code == 403
    assert get(world, users["outsider"], pid, like=ids["r0"]).status_code == 404
    assert tables(world.runtime.db) == {}  # refused before anything was built


def test_a_role_that_may_not_create_the_extension_searches_in_process(pg: Any, tmp_path: Path) -> None:
    pg.psql("CREATE ROLE plain LOGIN; CREATE DATABASE plain_db OWNER plain;")
    url = url_of(pg, "plain_db", user="plain")
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    search.forget_indexes()
    runtime = Runtime(make_settings(tmp_path, url))
    try:
        with TestClient(create_app(runtime)) as client:
            world = World(runtime, client)
            pid, users, ids = setup(world)
            r = get(world, users["reviewer"], pid, like=ids["c"], k=3)
            assert r.status_code == 200, r.text
            exact, vectors = exact_index(world, pid)
            assert [f["item_id"] for f in r.json()] == exact.search(vectors[ids["c"]], 3)[0].tolist()
            assert not pg_vectors.available(runtime.db)
            (_encoder, index), = search._indexes.values()
            assert isinstance(index, VectorIndex)
            assert tables(runtime.db) == {}
            with runtime.db.read() as conn:
                assert conn.execute(text("SELECT count(*) FROM pg_extension WHERE extname = 'vector'")).scalar() == 0
            assert get(world, users["annotator"], pid, like=ids["c"]).status_code == 403
    finally:
        runtime.close()


def test_erasure_and_deleting_the_project_drop_the_vectors(world: World) -> None:
    pid, users, ids = setup(world)
    owner = users["owner"]
    assert get(world, owner, pid, like=ids["r3"], k=5).status_code == 200
    assert len(tables(world.runtime.db)) == 1 and any(k[2] == pid for k in search._indexes)
    r = world.client.post(f"/api/projects/{pid}/erasure", json={"items": [ids["r3"]]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert tables(world.runtime.db) == {}  # in the erasure's own transaction
    assert not any(k[2] == pid for k in search._indexes)
    again = get(world, owner, pid, like=ids["r4"], k=5)  # the embedding cache went too: nothing to rebuild from
    assert again.status_code == 409 and "run a round" in again.json()["error"]["message"], again.text
    (name,) = tables(world.runtime.db)
    with world.runtime.db.read() as conn:
        assert conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() == 0
    assert world.client.delete(f"/api/projects/{pid}", headers=owner.headers).status_code == 204
    assert tables(world.runtime.db) == {}
