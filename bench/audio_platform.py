"""Transcripts on the platform: CrowdSpeech through the project recompute and the per-answer vote.

Run with ``python bench/audio_platform.py [--split clean|other]``. Builds a SQLite project whose schema
has an audio field and two transcript questions, a plain ``text`` one (``said``) and an
``audio_segments`` one with transcripts (``turns``, each answer one segment over the clip), imports
the split's clips (audio by URL, nothing decoded) and its 7 transcripts per clip as answers of one
user per CrowdSpeech worker, then measures, against the LibriSpeech text (lower case, no punctuation):

- the consensus as each answer arrives (``settle``: weighted ROVER with the prior's equal weights),
  and the time per item;
- the free-text type's own per-item vote (the most supported text after folding case and white
  space), what a ``text`` question settled on before transcripts were aggregated;
- ``POST .../quality/recompute`` (the text aggregator fitted on the whole project, each annotator's
  weight learned), its wall time, and the consensus it stores for both questions;
- the per-answer vote again once the recompute has stored everyone's skill.

Prints a table and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
MEDIA = Path(os.environ.get("LABELLOOP_MEDIA_DATA", ROOT.parent / "shared" / "data" / "media"))
SPLITS = {"clean": "crowdspeech_dev_clean", "other": "crowdspeech_dev_other"}
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [
        {"name": "said", "type": "text", "max_length": 100_000},
        {"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech"],
         "transcript": True},
    ],
}


def run(split: str) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from labelloop.api.app import create_app
    from labelloop.config import Settings
    from labelloop.quality import corpus_wer
    from labelloop.schema import parse_schema
    from labelloop.services import projects
    from labelloop.services.accounts import tokens, users
    from labelloop.services.policy import Actor
    from labelloop.services.quality.consensus import recompute_project, settle
    from labelloop.services.runtime import Runtime
    from labelloop.store.models import annotator_quality, answers, consensus, items, utcnow

    folder = MEDIA / "transcripts" / SPLITS[split]
    crowd = pd.read_csv(folder / "answers.csv", dtype=str, keep_default_na=False)
    gold = pd.read_csv(folder / "gold.csv", dtype=str, keep_default_na=False).set_index("task")["text"]
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(Settings(_env_file=None, data_dir=Path(tmp),  # type: ignore[call-arg]
                                   database_url=f"sqlite:///{Path(tmp) / 'labelloop.db'}"))
        runtime.migrate()
        client = TestClient(create_app(runtime))
        operator = Actor.operator()

        def setup(conn: Any) -> tuple[int, str, int, dict[str, int]]:
            owner = users.create_user(conn, operator, "owner")
            secret = tokens.create_token(conn, operator, owner.id, "bench").secret
            p = projects.create_project(conn, Actor(owner.id, "owner", False), "crowdspeech", SCHEMA,
                                        overlap=7)
            people = {w: users.create_user(conn, operator, f"w{w}").id for w in sorted(crowd.worker.unique())}
            return owner.id, secret, p.id, people

        owner_id, secret, pid, people = runtime.db.run(setup)
        headers = {"Authorization": f"Bearer {secret}"}
        body = "".join(json.dumps({"id": t, "clip": f"https://media.example/{t}.wav"}) + "\n"
                       for t in crowd.task.unique())
        r = client.post(f"/api/projects/{pid}/imports", params={"filename": "items.jsonl", "wait": "true"},
                        content=body.encode(), headers=headers)
        assert r.status_code == 201, r.text
        with runtime.db.read() as conn:
            ids = {r.external_id: r.id for r in conn.execute(
                select(items.c.id, items.c.external_id).where(items.c.project_id == pid))}
        now = utcnow()
        rows = [{"project_id": pid, "item_id": ids[t], "user_id": people[w], "idempotency_key": f"{t}:{w}",
                 "source": "human", "created_at": now,
                 "value": {"said": text, "turns": [{"start": 0.0, "end": 5.0, "label": "speech", "text": text,
                                                    "words": None}]}}
                for t, w, text in zip(crowd.task, crowd.worker, crowd.text, strict=True)]
        runtime.db.run(lambda c: c.execute(insert(answers), rows))
        by_item: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for row, t in zip(rows, crowd.task, strict=True):
            by_item.setdefault(t, []).append((row["user_id"], row["value"]))
        schema = parse_schema(SCHEMA)
        said = schema.question("said")

        def per_item(skills: dict[int, float]) -> tuple[pd.Series, pd.Series, float]:
            start = time.perf_counter()
            settled = {t: settle(schema, votes, skills) for t, votes in by_item.items()}
            seconds = (time.perf_counter() - start) / len(settled)
            texts = pd.Series({t: s.value["said"] for t, s in settled.items()}, dtype=object)
            turns = pd.Series({t: " ".join(x["text"] for x in s.value["turns"]) for t, s in settled.items()},
                              dtype=object)
            return texts, turns, seconds

        as_answered, as_answered_turns, per_item_s = per_item({})
        exact = pd.Series({t: said.kind.aggregate(said.spec, [v["said"] for _, v in votes]).value
                           for t, votes in by_item.items()}, dtype=object)
        start = time.perf_counter()
        result = recompute_project(runtime.db, Actor(owner_id, "owner", False), pid)
        recompute_s = time.perf_counter() - start
        with runtime.db.read() as conn:
            stored = {r.external_id: r.value for r in conn.execute(
                select(items.c.external_id, consensus.c.value)
                .join(consensus, consensus.c.item_id == items.c.id).where(items.c.project_id == pid))}
            skills = {r.user_id: r.skill for r in conn.execute(
                select(annotator_quality.c.user_id, annotator_quality.c.skill)
                .where(annotator_quality.c.project_id == pid)) if r.skill is not None}
        fitted = pd.Series({t: v["said"] for t, v in stored.items()}, dtype=object)
        fitted_turns = pd.Series({t: " ".join(x["text"] for x in v["turns"]) for t, v in stored.items()},
                                 dtype=object)
        after, _, after_s = per_item(skills)
        client.close()
        runtime.close()

    def wer(texts: pd.Series) -> float:
        return round(100 * corpus_wer(texts, gold), 2)

    return {
        "split": split, "clips": len(by_item), "answers": len(rows), "annotators": len(people),
        "wer_exact_match_vote": wer(exact),
        "wer_as_answers_arrive": wer(as_answered), "wer_as_answers_arrive_segments": wer(as_answered_turns),
        "wer_recompute": wer(fitted), "wer_recompute_segments": wer(fitted_turns),
        "wer_as_answers_arrive_after_recompute": wer(after),
        "recompute_s": round(recompute_s, 2), "recompute_items": result["items"],
        "settle_ms_per_item": round(1000 * per_item_s, 2),
        "settle_ms_per_item_after": round(1000 * after_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=sorted(SPLITS), action="append")
    args = parser.parse_args()
    results = [run(s) for s in args.split or ["clean", "other"]]
    print(f"{'split':<8}{'exact':>8}{'per-item':>10}{'recompute':>11}{'after':>8}{'recompute s':>13}"
          f"{'settle ms':>11}")
    for r in results:
        print(f"{r['split']:<8}{r['wer_exact_match_vote']:>8}{r['wer_as_answers_arrive']:>10}"
              f"{r['wer_recompute']:>11}{r['wer_as_answers_arrive_after_recompute']:>8}{r['recompute_s']:>13}"
              f"{r['settle_ms_per_item']:>11}")
    print(json.dumps({r["split"]: r for r in results}))


if __name__ == "__main__":
    main()
