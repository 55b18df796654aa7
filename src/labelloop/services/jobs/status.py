"""A job's states: queued (waiting for a worker), running, and the two ends."""

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
