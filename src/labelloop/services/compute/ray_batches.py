"""The batch map as Ray tasks, on the cluster LABELLOOP_RAY_ADDRESS names (the `ray` extra).

`auto` connects to the Ray cluster already running on this machine, or starts a local one for
this process (every core); any other value is a cluster's address (`ray://host:10001` or
`host:6379`). A process connects once and keeps the connection; a test or a notebook that called
`ray.init()` itself is used as it is. Every node needs labelloop installed (the tasks import it)
and must reach the database, since tasks read their items there rather than from the driver.
Each task takes one CPU, so a worker's numerical libraries run one thread, as the round's do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any, TypeVar

from labelloop.errors import Invalid, Problem
from labelloop.services.compute.batches import BatchMap

R = TypeVar("R")
SETTING = "LABELLOOP_RAY_ADDRESS"
_connecting = threading.Lock()


def require_ray(address: str) -> ModuleType:
    """The `ray` module, or Invalid saying how to install it (the setting asks for Ray)."""
    try:
        import ray
    except ImportError as e:
        raise Invalid(f"{SETTING} is {address!r} but Ray is not installed", [Problem(
            "install the ray extra (pip install 'labelloop[ray]') or unset the setting",
            field="ray_address")]) from e
    return ray


class RayBatches(BatchMap):
    """Each batch one Ray task; shared values put in the object store once."""

    name = "ray"
    local_files = False  # a node may not see (or may not write) the driver's data folder

    def __init__(self, ray: ModuleType) -> None:
        self._ray = ray
        self._remote: dict[Callable[..., Any], Any] = {}

    @classmethod
    def connect(cls, address: str) -> RayBatches:
        ray = require_ray(address)
        with _connecting:
            if not ray.is_initialized():
                try:
                    # ray.init() without an address joins this machine's cluster or starts one
                    ray.init(address=None if address == "auto" else address)
                except (ConnectionError, RuntimeError, ValueError) as e:
                    raise Invalid(f"cannot reach the Ray cluster at {address!r}", [Problem(
                        f"{type(e).__name__}: {e}", field="ray_address")]) from e
        return cls(ray)

    def imap(self, task: Callable[..., R], batches: Sequence[tuple[Any, ...]],
             **shared: Any) -> Iterator[tuple[int, R]]:
        remote = self._remote.get(task)
        if remote is None:
            remote = self._remote[task] = self._ray.remote(num_cpus=1)(task)
        refs = {name: self._ray.put(value) for name, value in shared.items()}
        pending = {remote.remote(*batch, **refs): k for k, batch in enumerate(batches)}
        try:
            while pending:
                done, _ = self._ray.wait(list(pending), num_returns=1)
                k = pending.pop(done[0])
                yield k, self._ray.get(done[0])
        finally:
            for ref in pending:  # a failed batch or an abandoned map: the rest is not needed
                self._ray.cancel(ref)
