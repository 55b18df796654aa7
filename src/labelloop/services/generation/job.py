"""The generation job: fill each item's responses up to K candidates from the project's model server
(docs/feedback.md, "Generation").

1. Scan the project's items for those whose responses field holds fewer than K candidates and
   whose prompt is not empty: the job's total. Items already full are never asked again, so a job
   that was stopped (a failure, a killed process) goes on where it was when run again.
2. Ask the server for each item's missing `K - have` candidates from a pool of `concurrency`
   threads sharing one client (its rate limit and connections): one request with `n = K - have`,
   and when the server gives fewer choices than asked (llama.cpp and others ignore `n`) the rest
   as single requests; from then on this job asks one choice per request.
3. Write each item's candidates in a transaction of its own, from this thread only, as its
   requests finish: an item gets all its new candidates or none.

The first request to fail for good (retries spent, or a 401 / 404 that retrying cannot fix) stops
the job: requests not yet sent are dropped, nothing more is written, and the job fails with the
server's URL and answer. Items written before then keep their candidates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Connection, select

from labelloop.services.generation import writer
from labelloop.services.generation.candidates import count, messages_for
from labelloop.services.generation.client import ChatClient, Completion, EndpointError, Stopped
from labelloop.services.generation.settings import (
    GenerationSettings,
    api_key,
    fields_of,
    generation_settings,
    ready,
)
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.store.db import Database
from labelloop.store.models import items, published_in

KIND = "generate"
MAX_MODEL_CHARS = 200  # a server may name its model by a long path; a candidate's `model` holds 200
SCAN_CHUNK = 500
ProgressFn = Callable[..., None]


@dataclass(frozen=True)
class Fields:
    prompt: str
    prompt_kind: str
    responses: str
    k: int


@dataclass(frozen=True)
class Todo:
    item_id: int
    messages: list[dict[str, str]]
    need: int


@dataclass
class Tally:
    items: int = 0
    already_full: int = 0
    without_prompt: int = 0
    processed: int = 0
    completed: int = 0
    candidates: int = 0
    models: set[str] = field(default_factory=set)


class NChoices:
    """Whether the server honours `n`: assumed until an answer says otherwise (shared by threads;
    a stale read only costs one request that gives fewer choices)."""

    def __init__(self) -> None:
        self.honoured = True


def run_generation(
    db: Database, actor: Actor, project_id: int, *, job_id: int | None = None,
    progress: ProgressFn | None = None, environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The job (module docstring); returns what it did."""
    with db.read() as conn:
        acc = access(conn, actor, project_id, Action.generate)
    settings = generation_settings(acc.project.generation_settings)
    ready(settings)
    prompt, kind, responses = fields_of(settings, schema_of(acc.project.label_schema))
    fields = Fields(prompt, kind, responses, settings.candidates)
    key = api_key(settings, environ)
    started = time.monotonic()
    tally = Tally()
    ids = _scan(db, project_id, fields, tally)
    report = progress or (lambda *_a, **_k: None)
    report(0, len(ids), f"generating: 0 of {len(ids):,} items", force=True)

    stop = threading.Event()
    client = ChatClient(settings, key, stop=stop)
    n_choices = NChoices()
    try:
        with ThreadPoolExecutor(settings.concurrency, thread_name_prefix="labelloop-generate") as pool:
            asked: dict[Future[list[dict[str, Any]]], Todo] = {}
            try:
                for todo in _todos(db, project_id, ids, fields, settings.system_prompt):
                    if stop.is_set():  # a request failed for good: its error is raised below
                        break
                    if len(asked) >= 2 * settings.concurrency:
                        _settle(db, project_id, fields, asked, tally, len(ids), report)
                    work = partial(_generate, client, settings, todo, n_choices, job_id)
                    asked[pool.submit(work)] = todo
                while asked:
                    _settle(db, project_id, fields, asked, tally, len(ids), report)
            except EndpointError as e:
                stop.set()
                _cancel(asked)
                kept = f"{tally.completed:,} of {len(ids):,} items got their candidates before that " \
                    "and keep them; run the job again to go on" if tally.completed else \
                    "this run changed no item"
                raise EndpointError(f"{e.message}; {kept}") from None
            except BaseException:
                stop.set()
                _cancel(asked)
                raise
    finally:
        client.close()
    report(len(ids), len(ids), f"generated: {tally.completed:,} items", force=True)
    return {
        "items": tally.items, "to_generate": len(ids), "completed": tally.completed,
        "candidates": tally.candidates, "already_full": tally.already_full,
        "without_prompt": tally.without_prompt, "requests": client.requests,
        "n_honoured": n_choices.honoured, "models": sorted(tally.models),
        "seconds": round(time.monotonic() - started, 3),
    }


def _scan(db: Database, project_id: int, fields: Fields, tally: Tally) -> list[int]:
    """Ids of the items that lack candidates and have a prompt, in id order (keyset pages)."""
    out: list[int] = []
    after = 0
    while True:
        with db.read() as conn:
            rows = conn.execute(
                select(items.c.id, items.c.data)
                .where(published_in(project_id), items.c.id > after)
                .order_by(items.c.id).limit(SCAN_CHUNK)
            ).all()
        if not rows:
            return out
        after = rows[-1].id
        for r in rows:
            tally.items += 1
            if count(r.data.get(fields.responses)) >= fields.k:
                tally.already_full += 1
            elif messages_for(r.data.get(fields.prompt), fields.prompt_kind, None) is None:
                tally.without_prompt += 1
            else:
                out.append(int(r.id))


def _todos(
    db: Database, project_id: int, ids: list[int], fields: Fields, system_prompt: str | None
) -> Iterator[Todo]:
    """What to ask for each item, read a chunk at a time as the job gets to it."""
    for start in range(0, len(ids), SCAN_CHUNK):
        chunk = ids[start:start + SCAN_CHUNK]
        with db.read() as conn:
            rows = conn.execute(
                select(items.c.id, items.c.data)
                .where(items.c.project_id == project_id, items.c.id.in_(chunk)).order_by(items.c.id)
            ).all()
        for r in rows:
            need = fields.k - count(r.data.get(fields.responses))
            messages = messages_for(r.data.get(fields.prompt), fields.prompt_kind, system_prompt)
            if need > 0 and messages is not None:
                yield Todo(int(r.id), messages, need)


def _generate(
    client: ChatClient, settings: GenerationSettings, todo: Todo, n_choices: NChoices,
    job_id: int | None,
) -> list[dict[str, Any]]:
    """The item's missing candidates (without ids), from one request with `n` or several."""
    out: list[dict[str, Any]] = []
    if todo.need > 1 and n_choices.honoured:
        completion = client.complete(todo.messages, todo.need)
        out += _candidates(completion, settings, job_id)
        if len(completion.choices) < todo.need:
            n_choices.honoured = False
    while len(out) < todo.need:
        out += _candidates(client.complete(todo.messages, 1), settings, job_id)[:1]
    return out[:todo.need]


def _candidates(c: Completion, settings: GenerationSettings, job_id: int | None) -> list[dict[str, Any]]:
    at = c.at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [{
        "content": choice.content,
        "model": (c.model or settings.model or "")[:MAX_MODEL_CHARS] or None,
        "meta": {"parameters": settings.parameters, "finish_reason": choice.finish_reason,
                 "usage": c.usage, "choices_asked": c.asked, "seconds": c.seconds,
                 "generated_at": at, "job_id": job_id},
    } for choice in c.choices]


def _settle(
    db: Database, project_id: int, fields: Fields, asked: dict[Future[list[dict[str, Any]]], Todo],
    tally: Tally, total: int, report: ProgressFn,
) -> None:
    """Wait for at least one item's requests and write each finished item (a transaction each).

    A request that failed for good stops the job here; items stopped because of it (`Stopped`)
    are dropped, and the failure is raised once its own item is seen.
    """
    finished, _ = wait(list(asked), return_when=FIRST_COMPLETED)
    for future in finished:
        error = future.exception()
        if error is not None and not isinstance(error, Stopped):
            raise error
    for future in sorted(finished, key=lambda f: asked[f].item_id):
        todo = asked.pop(future)
        if future.exception() is not None:
            continue
        new = future.result()
        added = db.run(partial(writer.add_candidates, project_id=project_id, item_id=todo.item_id,
                               field=fields.responses, new=new, k=fields.k))
        tally.processed += 1
        if added:  # none when a second job filled the item meanwhile
            tally.completed += 1
            tally.candidates += added
            tally.models.update(str(c["model"]) for c in new[:added])
        done = tally.processed
        report(done, total, f"generating: {done:,} of {total:,} items")


def _cancel(asked: dict[Future[list[dict[str, Any]]], Todo]) -> None:
    for future in asked:
        future.cancel()


def check_startable(
    conn: Connection, actor: Actor, project_id: int, environ: Mapping[str, str] | None = None
) -> GenerationSettings:
    """Invalid now, rather than a failed job later, when a job could not even start."""
    acc = access(conn, actor, project_id, Action.generate)
    settings = generation_settings(acc.project.generation_settings)
    ready(settings)
    fields_of(settings, schema_of(acc.project.label_schema))
    api_key(settings, environ)
    return settings
