"""A large export as tasks over ranges of items (services/compute/export_tasks.py): the same bytes
as in process, from the moment the export began, on PostgreSQL; elsewhere it stays in process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from labelloop.services import exports
from labelloop.services.compute.batches import InProcess
from labelloop.services.compute.export_tasks import export_stream, ray_export_applies, stream_ray_export
from tests.platform.world import OPERATOR, World

ON_POSTGRES = bool(os.environ.get("LABELLOOP_TEST_DATABASE_URL"))
N = 53  # ranges of 7 items: the last one short


def project(world: World) -> tuple[int, Any, Any]:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, members={"annotator": (ann,)})
    r = world.import_records(owner, pid, [
        {"id": f"i{k}", "text": f'line {k}, "quoted", =formula\n{"é" * (k % 3)}'} for k in range(N)])
    assert r.status_code in (200, 201), r.text
    for k in range(20):
        task = world.next(ann, pid).json()
        world.submit(ann, pid, task["item_id"], {"sentiment": ["pos", "neg"][k % 2]})
    return pid, owner, ann


def plan(world: World, pid: int, fmt: str) -> exports.ExportPlan:
    with world.runtime.db.write() as conn:
        return exports.plan_export(conn, OPERATOR, pid, fmt)


def in_process(world: World, p: exports.ExportPlan) -> bytes:
    return b"".join(exports.stream_export(world.runtime.db, p, world.runtime.blobs))


@pytest.mark.skipif(not ON_POSTGRES, reason="tasks share a PostgreSQL snapshot (make test-postgres)")
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_ranges_give_the_bytes_of_the_export_in_process(world: World, fmt: str) -> None:
    pid, _, _ = project(world)
    p = plan(world, pid, fmt)
    whole = in_process(world, p)
    assert whole.count(b"\r\n" if fmt == "csv" else b"\n") == N + (fmt == "csv")  # rows (and a header)
    assert b"".join(stream_ray_export(world.runtime.db, p, InProcess(), per_task=7, window=3)) == whole


@pytest.mark.skipif(not ON_POSTGRES, reason="tasks share a PostgreSQL snapshot (make test-postgres)")
def test_every_range_sees_the_moment_the_export_began(world: World) -> None:
    pid, _, ann = project(world)
    p = plan(world, pid, "jsonl")
    before = in_process(world, p)
    parts: Iterator[bytes] = stream_ray_export(world.runtime.db, p, InProcess(), per_task=7, window=1)
    first = next(parts)
    task = world.next(ann, pid).json()  # an answer arrives while the export runs
    assert world.submit(ann, pid, task["item_id"], {"sentiment": "neu"}).status_code == 201
    assert first + b"".join(parts) == before
    assert in_process(world, p) != before  # a new export has it


@pytest.mark.skipif(not ON_POSTGRES, reason="tasks share a PostgreSQL snapshot (make test-postgres)")
def test_on_a_ray_cluster(world: World) -> None:
    ray = pytest.importorskip("ray")
    from labelloop.services.compute.ray_batches import RayBatches

    pid, _, _ = project(world)
    p = plan(world, pid, "jsonl")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        got = b"".join(stream_ray_export(world.runtime.db, p, RayBatches(ray), per_task=7))
    finally:
        ray.shutdown()
    assert got == in_process(world, p)


def test_small_exports_parquet_and_sqlite_stay_in_process(world: World) -> None:
    pid, _, _ = project(world)
    assert not ray_export_applies(world.runtime.db, plan(world, pid, "parquet"), 1)
    assert ray_export_applies(world.runtime.db, plan(world, pid, "jsonl"), 1) == ON_POSTGRES
    assert not ray_export_applies(world.runtime.db, plan(world, pid, "jsonl"), N + 1)
    # Too small for tasks: the export in process, even with a Ray address that does not exist.
    p = plan(world, pid, "jsonl")
    assert b"".join(export_stream(world.runtime.db, p, None, "127.0.0.1:1")) == in_process(world, p)
