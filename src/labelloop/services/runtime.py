"""What a running labelloop holds: settings, the database, the blob store and the job worker."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from labelloop.config import Settings
from labelloop.services.audit.chain import ENABLED_OPTION as AUDIT_OPTION
from labelloop.services.importing.annotated import DatasetOptions
from labelloop.services.importing.readers import detect_format
from labelloop.services.importing.writer import check_import_allowed, discard_leftovers
from labelloop.services.jobs import JobInfo, create_job, get_job
from labelloop.services.jobs.kinds import IMPORT, job_kinds
from labelloop.services.jobs.worker import JobWorker
from labelloop.services.policy import Actor
from labelloop.services.privacy import scan as privacy_scan
from labelloop.services.protection import encryption
from labelloop.store.blobs import BlobStore, LocalBlobStore, sweep_stale
from labelloop.store.crypto import Keyring
from labelloop.store.db import Database
from labelloop.store.migrate import upgrade
from labelloop.store.models import jobs

# A leftover upload or staging file is removed at a start once untouched this long: younger
# ones may be another process's, being written right now.
LEFTOVER_SECONDS = 600.0


def blob_store(settings: Settings, kind: str | None = None) -> BlobStore:
    """The configured blob store (`kind` overrides LABELLOOP_BLOB_STORE: `labelloop blobs migrate`)."""
    if (kind or settings.blob_store) == "local":
        return LocalBlobStore(settings.blob_dir)
    from labelloop.store.s3_blobs import S3BlobStore  # boto3 is the `s3` extra's

    return S3BlobStore.connect(
        bucket=settings.s3_bucket or "", prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
        tmp_dir=settings.blob_dir, sse=settings.s3_sse, sse_kms_key_id=settings.s3_sse_kms_key_id,
        presign=settings.s3_presign, presign_seconds=settings.s3_presign_seconds)


class Runtime:
    def __init__(self, settings: Settings, *, check_key: bool = True, job_threads: int | None = None,
                 worker_name: str | None = None, job_poll_seconds: float = 1.0) -> None:
        """`check_key=False` only for `labelloop encryption`, which sets the key state itself;
        `job_threads`, `worker_name` and `job_poll_seconds`: `labelloop worker`'s
        (LABELLOOP_JOB_WORKERS, the host, and how often its threads look for a queued job)."""
        self.settings = settings
        if settings.ray_address:  # a missing extra stops the start, not the first round
            from labelloop.services.compute.ray_batches import require_ray

            require_ray(settings.ray_address)
        self.db = Database(settings.resolved_database_url, pool_size=settings.db_pool_size)
        if not settings.audit_log:
            self.db.engine.update_execution_options(**{AUDIT_OPTION: False})
        self.jobs = JobWorker(
            self.db, job_kinds(self), name=worker_name,
            threads=settings.job_workers if job_threads is None else job_threads,
            heartbeat_seconds=settings.job_heartbeat_seconds, stale_seconds=settings.job_stale_seconds,
            poll_seconds=job_poll_seconds,
        )
        try:
            self.blobs = blob_store(settings)  # a wrong bucket or credentials stops the start here
        except BaseException:
            self.close()
            raise
        # Encryption at rest (docs/data-protection.md): a wrong or missing key stops the start here.
        self.encryption_key = encryption.load_key(settings)
        self.keyring = None if self.encryption_key is None else Keyring(self.encryption_key)
        encryption.attach(self.db, self.blobs, self.keyring)
        self._check_key = check_key
        if check_key:
            try:
                encryption.check_key(self.db, self.keyring)
            except BaseException:
                self.close()
                raise

    def migrate(self) -> None:
        upgrade(self.db.engine)
        if self._check_key:
            encryption.check_key(self.db, self.keyring)

    def recover(self) -> list[str]:
        """At a start, before this process runs jobs: settle the jobs cut off by a process that
        stopped (an import past its commit point is published, one before it deleted; a job
        that can run again goes back to the queue) and remove leftover temporary files. Says what
        it did. Jobs of processes still running are left alone."""
        ended, queued = self.jobs.settle()
        said = [f"import job {j} had failed without deleting what it staged; deleted now"
                for j in discard_leftovers(self.db)]
        for j in ended:
            if j.kind == IMPORT and j.status == "succeeded":
                said.append(f"import job {j.id} was cut off after its commit; its items are now published")
            elif j.kind == IMPORT:
                said.append(f"import job {j.id} was cut off; nothing of its file was kept")
            else:
                said.append(f"job {j.id} ({j.kind}) was cut off and cannot run again: "
                            f"{(j.error or {}).get('message', '')}")
        said += [f"job {j} was cut off; it will run again" for j in queued]
        with self.db.read() as conn:  # uploads still waiting for their import stay
            waiting = {str(p.get("upload")) for p in conn.execute(
                select(jobs.c.params).where(jobs.c.kind == IMPORT, jobs.c.status.in_(["queued", "running"]))
            ).scalars() if p and p.get("upload")}
        if removed := sweep_stale(self.settings.upload_dir, LEFTOVER_SECONDS, keep=waiting):
            said.append(f"removed {removed} unfinished upload{'s' if removed > 1 else ''}")
        if swept := self.blobs.sweep_temporary(LEFTOVER_SECONDS):
            said.append(f"removed {swept} unfinished blob file{'s' if swept > 1 else ''}")
        return said

    def start_jobs(self) -> None:
        """Start this process's job threads (LABELLOOP_JOB_WORKERS of them; none when 0)."""
        self.jobs.start()

    def queued(self, job: JobInfo) -> JobInfo:
        """A job was just queued: wake this process's threads (if it runs any) to take it."""
        self.jobs.start()
        self.jobs.wake()
        return job

    def wait_for(self, job_id: int, timeout: float = 600.0, poll: float = 0.05) -> JobInfo:
        """The job once finished, whichever process runs it (TimeoutError after `timeout`)."""
        from labelloop.services.policy import Actor

        deadline = time.monotonic() + timeout
        while True:
            with self.db.read() as conn:
                job = get_job(conn, Actor.operator(), job_id)
            if job.finished:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout:.0f} s")
            time.sleep(poll)

    def close(self) -> None:
        self.jobs.stop()
        self.db.dispose()

    def spool_path(self, filename: str) -> Path:
        """A fresh file in the upload folder to stream an upload into."""
        upload_dir = self.settings.upload_dir
        upload_dir.mkdir(parents=True, exist_ok=True)
        suffix = "".join(c for c in Path(filename).suffix[:10] if c.isalnum() or c == ".")
        fd, name = tempfile.mkstemp(dir=upload_dir, suffix=suffix)
        os.close(fd)
        return Path(name)

    def start_import(
        self, actor: Actor, project_id: int, path: Path, *, filename: str, fmt: str | None = None,
        dataset: DatasetOptions | None = None, split: str | None = None,
    ) -> JobInfo:
        """Queue the import of a spooled upload (`spool_path`; removed once imported); `dataset`:
        what a COCO, YOLO or VOC dataset's annotations become; `split`: a Hugging Face dataset's."""
        if path.parent.resolve() != self.settings.upload_dir.resolve():
            raise ValueError(f"{path} is not in the upload folder: spool it with spool_path")
        try:
            with self.db.write() as conn:
                check_import_allowed(conn, actor, project_id)
                fmt = detect_format(path, fmt)
                params: dict[str, Any] = {"file": filename, "format": fmt, "upload": path.name}
                if dataset is not None:
                    params |= {"as": dataset.as_, "question": dataset.question}
                if fmt == "hf":
                    params["split"] = split
                job = create_job(conn, actor, project_id, IMPORT, params)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return self.queued(job)

    def start_privacy_scan(self, actor: Actor, project_id: int, *, rescan: bool = False) -> JobInfo:
        """Queue a scan of the project's items for personal data (services/privacy/scan.py)."""
        with self.db.write() as conn:
            privacy_scan.check_scan(conn, actor, project_id)
            job = create_job(conn, actor, project_id, privacy_scan.KIND, {"rescan": rescan})
        return self.queued(job)
