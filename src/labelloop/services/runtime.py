"""What a running labelloop holds: settings, the database, and the background job runner."""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from labelloop.config import Settings
from labelloop.errors import DomainError
from labelloop.services.audit.chain import ENABLED_OPTION as AUDIT_OPTION
from labelloop.services.importing.annotated import DatasetOptions
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.readers import detect_format
from labelloop.services.importing.writer import check_import_allowed, import_file, recover_imports
from labelloop.services.jobs import JobInfo, JobRunner, Progress, create_job, fail_interrupted
from labelloop.services.policy import Actor
from labelloop.services.privacy import scan as privacy_scan
from labelloop.services.protection import encryption
from labelloop.store.blobs import BlobStore, LocalBlobStore
from labelloop.store.crypto import Keyring
from labelloop.store.db import Database
from labelloop.store.migrate import upgrade


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
    def __init__(self, settings: Settings, *, check_key: bool = True) -> None:
        """`check_key=False` only for `labelloop encryption`, which sets the key state itself."""
        self.settings = settings
        self.db = Database(settings.resolved_database_url, pool_size=settings.db_pool_size)
        if not settings.audit_log:
            self.db.engine.update_execution_options(**{AUDIT_OPTION: False})
        self.jobs = JobRunner(self.db, settings.job_workers)
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
        """After a restart (before any worker starts): settle the imports that were cut off,
        fail the other jobs, and remove uploads nobody will import. Says what it did."""
        finished, discarded = recover_imports(self.db)
        with self.db.write() as conn:
            failed = fail_interrupted(conn)
        said = [f"import job {j} was cut off after its commit; its items are now published"
                for j in finished]
        said += [f"import job {j} was cut off; nothing of its file was kept" for j in discarded]
        said += [f"job {j.id} ({j.kind}) was cut off by the last shutdown; marked failed"
                 for j in failed]
        # The upload folder only holds files being streamed in or waiting for their import.
        if self.settings.upload_dir.is_dir():
            for stray in self.settings.upload_dir.iterdir():
                if stray.is_file():
                    stray.unlink(missing_ok=True)
                    said.append(f"removed the unfinished upload {stray.name}")
        if swept := self.blobs.sweep_temporary():
            said.append(f"removed {swept} unfinished blob file{'s' if swept > 1 else ''}")
        return said

    def close(self) -> None:
        self.jobs.shutdown()
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
    ) -> tuple[JobInfo, Future[JobInfo]]:
        """Import a spooled upload in the background (the file is removed afterwards); `dataset`:
        what a COCO, YOLO or VOC dataset's annotations become; `split`: a Hugging Face dataset's."""
        try:
            with self.db.write() as conn:
                check_import_allowed(conn, actor, project_id)
                fmt = detect_format(path, fmt)
                params: dict[str, Any] = {"file": filename, "format": fmt}
                if dataset is not None:
                    params |= {"as": dataset.as_, "question": dataset.question}
                if fmt == "hf":
                    params["split"] = split
                job = create_job(conn, actor, project_id, "import", params)
        except BaseException:
            path.unlink(missing_ok=True)
            raise

        def body(progress: Progress) -> dict[str, Any]:
            try:
                result = import_file(
                    self.db, actor, project_id, path, job_id=job.id, fmt=fmt,
                    batch_size=self.settings.import_batch_size, progress=progress,
                    display_name=filename, limits=ImportLimits.from_settings(self.settings),
                    blobs=self.blobs, dataset=dataset, split=split,
                )
            finally:
                path.unlink(missing_ok=True)
            if privacy_scan.wants_scan_after_import(self.db, project_id):  # docs/privacy.md
                try:
                    result["privacy_scan_job"] = self.start_privacy_scan(actor, project_id)[0].id
                except DomainError as e:  # the policy turned off meanwhile: the import stands
                    result["privacy_scan_error"] = e.message
            return result

        return job, self.jobs.submit(job.id, body)

    def start_privacy_scan(self, actor: Actor, project_id: int, *, rescan: bool = False
                           ) -> tuple[JobInfo, Future[JobInfo]]:
        """Scan the project's items for personal data in the background (services/privacy/scan.py)."""
        with self.db.write() as conn:
            privacy_scan.check_scan(conn, actor, project_id)
            job = create_job(conn, actor, project_id, privacy_scan.KIND, {"rescan": rescan})
        return job, self.jobs.submit(job.id, lambda progress: privacy_scan.run_scan(
            self.db, actor, project_id, rescan=rescan, job_id=job.id, progress=progress))
