"""The LLM preference demo: PandaLM's test set (../shared/data/media/pairwise/pandalm_testset) as a
ready project, its three annotators' verdicts recorded as answers, and exported as DPO pairs."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from labelloop.services import exports
from labelloop.services.demo import FEEDBACK_NAME, PANDALM, PANDALM_FILE, ensure_feedback_demo
from labelloop.services.policy import Actor
from labelloop.store.models import answers, items, projects
from tests.platform.world import World


@pytest.fixture
def pandalm() -> list[dict[str, Any]]:
    if not (PANDALM / PANDALM_FILE).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{PANDALM} is missing on CI")
        pytest.skip(f"{PANDALM} is not there (the shared data folder)")
    rows: list[dict[str, Any]] = json.loads((PANDALM / PANDALM_FILE).read_text(encoding="utf-8"))
    return rows


def test_demo_project_from_pandalm_exports_dpo(world: World, pandalm: list[dict[str, Any]]) -> None:
    db = world.runtime.db
    made = ensure_feedback_demo(db)
    assert made.project_id is not None and str(PANDALM) in made.note
    again = ensure_feedback_demo(db)
    assert again.project_id is None and "there already" in again.note
    pid = made.project_id
    with db.read() as conn:
        assert conn.execute(select(func.count()).where(items.c.project_id == pid)).scalar() == len(pandalm) == 999
        values = [v for (v,) in conn.execute(select(answers.c.value).where(answers.c.project_id == pid))]
    assert len(values) == 3 * 999
    verdicts = Counter(int(r[f"annotator{k}"]) for r in pandalm for k in (1, 2, 3))
    assert Counter(v["better"]["winner"] for v in values) == {
        "tie": verdicts[0], "left": verdicts[1], "right": verdicts[2]}

    with db.read() as conn:
        plan = exports.plan_export(conn, Actor.operator(), pid, "dpo")
    assert plan.feedback is not None
    summary = plan.feedback.summary()["dpo"]
    rows = [json.loads(line) for line in b"".join(exports.stream_export(db, plan)).splitlines()]
    assert len(rows) == summary["pairs"] and summary["comparisons"] == 2997
    assert summary["pairs"] + summary["ties_left_out"] + summary["no_winner_left_out"] == 999
    with db.read() as conn:
        external = dict(conn.execute(select(items.c.id, items.c.external_id).where(items.c.project_id == pid)).all())
    by_id = {f"pandalm-{int(r['idx']):04d}": r for r in pandalm}
    unanimous = 0
    for row in rows:
        source = by_id[external[row["item_id"]]]
        assert row["prompt"] == str(source["instruction"]) + (f"\n\n{source['input']}" if source["input"] else "")
        said = {int(source[f"annotator{k}"]) for k in (1, 2, 3)}
        if said in ({1}, {2}):  # all three agree: the pair goes their way
            unanimous += 1
            assert row["chosen_id"] == ("r1" if said == {1} else "r2") and row["margin"] > 0
        chosen, rejected = ("response1", "response2") if row["chosen_id"] == "r1" else ("response2", "response1")
        assert (row["chosen"], row["rejected"]) == (str(source[chosen]), str(source[rejected]))
    assert unanimous > 600  # PandaLM's annotators agree on most pairs


def test_no_demo_without_the_data(world: World, tmp_path: Path) -> None:
    made = ensure_feedback_demo(world.runtime.db, folder=tmp_path)
    assert made.project_id is None and str(tmp_path) in made.note and "is not there" in made.note
    with world.runtime.db.read() as conn:
        assert conn.execute(select(projects.c.id).where(projects.c.name == FEEDBACK_NAME)).first() is None
