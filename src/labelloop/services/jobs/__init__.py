"""Background jobs: rows with status and progress (rows.py), claimed across processes (claims.py)
by workers (worker.py) that run each kind from its stored parameters (kinds.py)."""

from labelloop.services.jobs.rows import (
    JobInfo,
    JobLost,
    Progress,
    create_job,
    get_job,
    list_jobs,
    run_job,
)
from labelloop.services.jobs.status import FAILED, QUEUED, RUNNING, SUCCEEDED

__all__ = [
    "FAILED", "QUEUED", "RUNNING", "SUCCEEDED", "JobInfo", "JobLost", "Progress", "create_job",
    "get_job", "list_jobs", "run_job",
]
