"""The runner a loop round uses, picked by the setting LABELLOOP_RAY_ADDRESS."""

from __future__ import annotations

from labelloop.services.compute.batches import BatchMap, InProcess


def batch_map(ray_address: str | None) -> BatchMap:
    """The runner the setting names: Ray tasks on the cluster at `ray_address` (`auto`: the local
    one, started when none runs), or this process when unset. Fails at once, with what to do,
    when Ray is asked for and not installed or not reachable."""
    if not ray_address:
        return InProcess()
    from labelloop.services.compute.ray_batches import RayBatches

    return RayBatches.connect(ray_address)
