"""Importing, browsing and exporting items; gold answers and priorities."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from labelloop.api.deps import Ctx, CtxDep, finished
from labelloop.api.download import content_disposition
from labelloop.api.errors import documented, error_response
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import (
    AnswerOut,
    CountOut,
    GoldIn,
    ItemDetailOut,
    ItemOut,
    JobOut,
    PrioritiesIn,
)
from labelloop.api.params import Cursor, Id
from labelloop.errors import Invalid, Problem
from labelloop.services import exports, items
from labelloop.services.compute.export_tasks import export_stream
from labelloop.services.curation import slices
from labelloop.services.importing.annotated import DatasetOptions
from labelloop.services.importing.readers import DATASETS, MOVE_IN
from labelloop.services.importing.writer import check_import_allowed
from labelloop.services.policy import Actor
from labelloop.services.queue import answers

router = APIRouter(
    prefix="/api/projects/{project_id:id}", tags=["items"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)


def _allowed_importer(conn: Any, actor: Actor, project_id: int) -> Actor:
    """The caller, once it is clear they may import here (before a byte is spooled)."""
    check_import_allowed(conn, actor, project_id)
    return actor


async def _spool(request: Request, path: Path, limit: int) -> None:
    size = 0
    with path.open("wb") as f:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Invalid("the upload is too large",
                              [Problem(f"at most {limit // (1024 * 1024)} MiB", field="body")])
            f.write(chunk)


@router.post(
    "/imports",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {}}, "required": True}},
    responses={201: {"model": JobOut, "description": "With `wait`: the finished import."}},
)
async def import_items(
    project_id: Id,
    request: Request,
    filename: str = Query(..., description="The file's name; its suffix tells the format."),
    format: str | None = Query(None, description="jsonl, json, csv, tsv, zip (of .txt files or of "
                               "images, told apart by what it holds), images; or coco, yolo or voc "
                               "(a zip of an image dataset with its annotations); or nemo, srt, webvtt "
                               "or rttm (a zip of audio files with their segments); or mot or cvat (a "
                               "zip of videos, or of tracks alone, docs/video.md); or hf (a zip of a "
                               "Hugging Face dataset written by save_to_disk, told apart too); or "
                               "label-studio (a Label Studio JSON export) or doccano (a doccano JSONL "
                               "file), with their labels (docs/curation.md, \"Moving in\")."),
    as_: str = Query("gold", alias="as", description="coco, yolo, voc, nemo, srt, webvtt, rttm, mot, "
                     "cvat, label-studio, doccano: the annotations become gold or prelabels "
                     "(meta.prelabel)."),
    question: str | None = Query(None, description="coco, yolo, voc: the shape question they answer; "
                                 "nemo, srt, webvtt, rttm: the audio_segments question; mot, cvat: "
                                 "the video_tracks question; doccano: the choice, multi_choice or "
                                 "spans question (needed when the schema has several)."),
    split: str | None = Query(None, max_length=200, description="hf: the split of a DatasetDict to "
                              "import (default train)."),
    wait: bool = Query(False, description="Answer when the import has finished."),
    ctx: Ctx = CtxDep,
) -> Response:
    """Stream a file as the request body; it is imported by a background job.

    Without `wait`, answers 202 at once with the job to poll (`GET /api/jobs/{id}`). With
    `wait`, answers 201 with the finished job, or 422 naming each bad line and field.
    """
    runtime = ctx.runtime
    actor = await run_in_threadpool(ctx.read, _allowed_importer, project_id)
    path = runtime.spool_path(filename)
    try:
        await _spool(request, path, runtime.settings.max_upload_mb * 1024 * 1024)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    dataset = DatasetOptions(as_, question) if format in (*DATASETS, *MOVE_IN) else None
    job = await run_in_threadpool(
        runtime.start_import, actor, project_id, path, filename=filename, fmt=format, dataset=dataset,
        split=split,
    )
    if not wait:
        return JSONResponse(JobOut.model_validate(job).model_dump(mode="json"), status_code=202)
    done = await finished(runtime, job.id)
    if done.status == "failed" and done.error is not None:
        return error_response(422, "invalid", done.error["message"], done.error.get("problems"))
    return JSONResponse(JobOut.model_validate(done).model_dump(mode="json"), status_code=201)


@router.get("/items", response_model=list[ItemOut])
def list_items(
    project_id: Id,
    status: str | None = Query(None, description="open, in_progress or done"),
    q: str | None = Query(None, description="Text to find in the item's fields or metadata."),
    annotator: Annotated[Id | None, Query(description="Only items this user (id) answered.")] = None,
    label: str | None = Query(None, description="question:value the consensus settled on."),
    meta: str | None = Query(None, description="key:value in the item's metadata."),
    review: str | None = Query(None, description="pending or done (the review queue)."),
    label_issue: bool | None = Query(
        None, description="true: only items the latest loop round suspects of a wrong label; false: others."
    ),
    ids: str | None = Query(None, max_length=20_000, pattern=r"^[0-9]+(,[0-9]+)*$",
                            description="Only these items: ids separated by commas."),
    slice_id: Annotated[Id | None, Query(alias="slice", description="Only items of this saved slice "
                                         "(docs/curation.md); the other filters narrow it.")] = None,
    after: Annotated[Cursor, Query(description="Return items with a larger id (keyset pagination).")] = 0,
    limit: int = Query(100, ge=1, le=1000),
    ctx: Ctx = CtxDep,
) -> list[ItemOut]:
    where = slices.parse_filter({"status": status, "q": q, "annotator": annotator, "label": label,
                                 "meta": meta, "review": review, "label_issue": label_issue, "ids": ids})
    found = ctx.read(slices.browse, project_id, where, slice_id=slice_id, after_id=after, limit=limit)
    return [ItemOut.model_validate(i) for i in found]


@router.get("/items/{item_id:id}", response_model=ItemDetailOut)
def get_item(project_id: Id, item_id: Id, ctx: Ctx = CtxDep) -> ItemDetailOut:
    d = ctx.write(items.get_item, project_id, item_id)  # a write: the audit log keeps the read
    return ItemDetailOut(item=ItemOut.model_validate(d.item),
                         answers=[AnswerOut.model_validate(a) for a in d.answers])


@router.put("/items/{item_id:id}/gold", response_model=ItemOut)
def set_gold(project_id: Id, item_id: Id, body: GoldIn, ctx: Ctx = CtxDep) -> ItemOut:
    return ItemOut.model_validate(ctx.write(items.set_gold, project_id, item_id, body.value))


@router.delete("/items/{item_id:id}/gold", response_model=ItemOut)
def clear_gold(project_id: Id, item_id: Id, ctx: Ctx = CtxDep) -> ItemOut:
    return ItemOut.model_validate(ctx.write(items.set_gold, project_id, item_id, None))


@router.post("/items/priorities", response_model=CountOut)
def set_priorities(project_id: Id, body: PrioritiesIn, ctx: Ctx = CtxDep) -> CountOut:
    pairs = [(p.item_id, p.priority) for p in body.priorities]
    return CountOut(updated=ctx.write(items.set_priorities, project_id, pairs))


@router.get("/answers", response_model=list[AnswerOut])
def list_answers(
    project_id: Id,
    user_id: Annotated[Id | None, Query(description="Only this user's answers.")] = None,
    item_id: Annotated[Id | None, Query(description="Only answers to this item.")] = None,
    after: Annotated[Cursor, Query(description="Oldest first: answers with a larger id.")] = 0,
    before: Annotated[Cursor | None, Query(description="Newest first: answers with a smaller id.")] = None,
    newest_first: bool = Query(False, description="Newest first (page with `before`)."),
    limit: int = Query(100, ge=1, le=1000),
    ctx: Ctx = CtxDep,
) -> list[AnswerOut]:
    """Answers in id order (or newest first). Annotators get their own answers only."""
    found = ctx.read(answers.list_answers, project_id, user_id=user_id, item_id=item_id,
                     after_id=after, before_id=before, newest_first=newest_first, limit=limit)
    return [AnswerOut.model_validate(a) for a in found]


@router.get(
    "/export",
    responses={200: {"content": {t: {} for t in exports.FORMATS.values()}}},
)
def export(
    project_id: Id,
    format: str = Query("jsonl", description="jsonl, csv or parquet; or coco, yolo or voc (a zip); "
                        "or nemo, srt, webvtt or rttm (a zip of audio files and their segments); "
                        "or mot, cvat, vis or yolo-frames (a zip of videos and their tracks); "
                        "or training data from language-model feedback: dpo, sft (JSONL), ratings (CSV), "
                        "ratings-parquet, hf (a zip of Parquet shards with a dataset card)."),
    question: str | None = Query(None, description="coco, yolo, voc: the shape question to export; "
                                 "nemo, srt, webvtt, rttm: the audio_segments question (needed when "
                                 "the schema has several); dpo, sft, ratings, hf: the "
                                 "question to take (needed for dpo when there are several preference "
                                 "or ranking questions)."),
    source: str = Query("consensus", description="coco, yolo, voc, nemo, srt, webvtt, rttm: whose "
                        "objects or segments: consensus, gold or answers (every annotator's latest; "
                        "not yolo, srt, webvtt, rttm)."),
    images: str = Query("include", description="coco, yolo, voc (and nemo, srt, webvtt, rttm for "
                        "the audio files): include the files, or refs (references.csv names each "
                        "file's blob: reference instead)."),
    license: str = Query("other", description="hf: the dataset card's license id (apache-2.0, "
                         "cc-by-4.0, mit, ...)."),
    redact: bool = Query(False, description="jsonl, csv, parquet: personal data replaced by "
                         "placeholders, spans moved with it (docs/privacy.md); default: the original. "
                         "The choice is recorded in the audit log."),
    slice_id: Annotated[Id | None, Query(alias="slice", description="jsonl, csv, parquet: only the "
                                         "items of this saved slice.")] = None,
    ctx: Ctx = CtxDep,
) -> StreamingResponse:
    """Stream every item with its answers, gold and consensus; or one shape question as an image
    dataset (docs/images.md, "Formats"); or one audio_segments question as an audio dataset
    (docs/audio.md, "Formats"); or training data (docs/feedback.md, "Exports for
    training"), whose counts, and what was left out, are in the X-Labelloop-Summary header."""
    plan = ctx.write(exports.plan_export, project_id, format, question=question, source=source,
                    images=images, license=license, redact=redact, slice_ref=slice_id)
    headers = {"Content-Disposition": content_disposition(plan.filename)}
    if plan.feedback is not None:
        headers["X-Labelloop-Summary"] = orjson.dumps(plan.feedback.summary()).decode()
    return StreamingResponse(
        export_stream(ctx.runtime.db, plan, ctx.runtime.blobs, ctx.runtime.settings.ray_address),
        media_type=plan.media_type,
        headers=headers,
    )
