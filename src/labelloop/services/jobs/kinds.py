"""Every kind of background job, run from its stored parameters by whichever worker claims it.

What each kind does when a run was cut off (its process died) decides whether the job may
start again (docs/scaling.md, "Processes and jobs"):
- import: staged rows are nobody's to see; past the commit point the import is finished by
  publishing what it staged, before it the staged rows are deleted and the file imported again
  (when this worker sees the upload: a shared data folder), else the job fails and says so;
- round: the model version the cut-off run began is deleted (with its predictions), then the
  round runs again from the answers as they are now;
- recompute, prelabel, privacy scan, generation: each writes item by item what is missing or
  re-derives everything, so running again finishes the work and repeats none of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete

from labelloop.errors import DomainError
from labelloop.services.curation import search
from labelloop.services.generation import job as generation
from labelloop.services.importing.annotated import DatasetOptions
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.writer import discard_staged, import_file, publish_staged
from labelloop.services.jobs.claims import Claimed
from labelloop.services.jobs.rows import JobLost, Progress
from labelloop.services.jobs.worker import JobKind
from labelloop.services.loop import prelabels
from labelloop.services.loop import rounds as loop
from labelloop.services.privacy import scan as privacy_scan
from labelloop.services.quality import consensus
from labelloop.store.db import Database
from labelloop.store.models import model_versions

if TYPE_CHECKING:
    from labelloop.services.runtime import Runtime

IMPORT, ROUND, PRELABEL, RECOMPUTE = "import", "round", "prelabel", "recompute"


def job_kinds(rt: Runtime) -> dict[str, JobKind]:
    """The kinds a worker of this runtime runs (its settings, database and blob store)."""

    def upload(c: Claimed) -> Path | None:
        name = c.params.get("upload")
        return None if not name else rt.settings.upload_dir / Path(str(name)).name

    def run_import(c: Claimed, progress: Progress) -> dict[str, Any]:
        path, project_id = upload(c), c.job.project_id
        assert path is not None and project_id is not None  # cannot_run said so otherwise
        dataset = (DatasetOptions(as_=c.params["as"], question=c.params.get("question"))
                   if "as" in c.params else None)
        try:
            result = import_file(
                rt.db, c.actor, project_id, path, job_id=c.job.id, fmt=c.params.get("format"),
                batch_size=rt.settings.import_batch_size, progress=progress,
                display_name=c.params.get("file"), limits=ImportLimits.from_settings(rt.settings),
                blobs=rt.blobs, dataset=dataset, split=c.params.get("split"),
            )
        except JobLost:
            raise  # the file is the worker's that took the job over
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        path.unlink(missing_ok=True)
        if privacy_scan.wants_scan_after_import(rt.db, project_id):  # docs/privacy.md
            try:
                result["privacy_scan_job"] = rt.start_privacy_scan(c.actor, project_id).id
            except DomainError as e:  # the policy turned off meanwhile: the import stands
                result["privacy_scan_error"] = e.message
        return result

    def settle_import(db: Database, c: Claimed) -> dict[str, Any] | None:
        if c.job.result is not None:  # cut off after its commit point: finish publishing
            publish_staged(db, c.job.id)
            if (path := upload(c)) is not None:
                path.unlink(missing_ok=True)
            return c.job.result
        discard_staged(db, c.job.id)  # before it: what it staged goes
        return None

    def import_cannot_run(c: Claimed) -> str | None:
        path = upload(c)
        if path is None or not path.is_file():
            return "cut off before its commit point: nothing of its file was kept; import the file again"
        return None

    def project(c: Claimed) -> int:
        if c.job.project_id is None:
            raise DomainError(f"job {c.job.id} has no project")
        return c.job.project_id

    def run_round(c: Claimed, p: Progress) -> dict[str, Any]:
        done = loop.run_round(rt.db, c.actor, project(c), data_dir=rt.settings.data_dir, job_id=c.job.id,
                              progress=p, store=rt.blobs, ray_address=rt.settings.ray_address)
        p(1, 1, "indexing the round's embeddings for search", force=True)
        done["search_index_built"] = search.prepare(rt.db, c.actor, project(c), data_dir=rt.settings.data_dir)
        return done

    def forget_version(db: Database, c: Claimed) -> None:
        with db.write() as conn:
            conn.execute(delete(model_versions).where(model_versions.c.job_id == c.job.id))

    return {
        IMPORT: JobKind(run_import, clean_up=settle_import, cannot_run=import_cannot_run),
        ROUND: JobKind(run_round, clean_up=forget_version),
        PRELABEL: JobKind(lambda c, p: prelabels.run_prelabels(
            rt.db, rt.blobs, c.actor, project(c), job_id=c.job.id, progress=p)),
        RECOMPUTE: JobKind(lambda c, _p: consensus.recompute_project(rt.db, c.actor, project(c))),
        privacy_scan.KIND: JobKind(lambda c, p: privacy_scan.run_scan(
            rt.db, c.actor, project(c), rescan=bool(c.params.get("rescan")), job_id=c.job.id, progress=p)),
        generation.KIND: JobKind(lambda c, p: generation.run_generation(
            rt.db, c.actor, project(c), job_id=c.job.id, progress=p)),
        # each method's groups are replaced in one transaction: running again just redoes them
        "duplicates": JobKind(lambda c, p: _duplicates().run_duplicates(
            rt.db, c.actor, project(c), c.params, blobs=rt.blobs, data_dir=rt.settings.data_dir, progress=p)),
    }


def _duplicates() -> Any:
    """services/curation/duplicates.py, imported when a duplicates job runs (datasketch, imagehash)."""
    from labelloop.services.curation import duplicates

    return duplicates
