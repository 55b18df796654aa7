"""Batch compute for a loop round: the same tasks over batches of items, in this process or on Ray.

`batch_map(ray_address)` (runner.py) picks the runner from the setting (LABELLOOP_RAY_ADDRESS): unset, the
batches run here one after another (batches.py); set, they run as Ray tasks (ray_batches.py, the
`ray` extra, imported only then). The tasks (round_tasks.py) read items through the store and
return arrays; the round (services/loop/rounds.py) keeps the whole-set steps.
"""

from labelloop.services.compute.batches import BATCH_ITEMS, BatchMap, InProcess, spans
from labelloop.services.compute.runner import batch_map

__all__ = ["BATCH_ITEMS", "BatchMap", "InProcess", "batch_map", "spans"]
