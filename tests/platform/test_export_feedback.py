"""Exports for training (docs/feedback.md): DPO pairs, SFT conversations, ratings tables and a
Hugging Face dataset, from answers given through the API, with known answers."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import zipfile
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality import RobustMean
from labelloop.quality.pairwise import default_pairwise_aggregator
from labelloop.services import exports
from labelloop.services.exporting.feedback import stream as feedback_stream
from labelloop.services.exporting.feedback.aggregate import EPS, Vote, preferences
from labelloop.services.policy import Actor
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "prompt", "type": "text"}, {"name": "responses", "type": "responses"}],
    "questions": [
        {"name": "pref", "type": "preference", "target": "responses", "required": False},
        {"name": "quality", "type": "criteria", "target": "responses", "min": 1, "max": 5, "required": False,
         "criteria": [{"name": "helpful"}, {"name": "correct"}]},
        {"name": "fix", "type": "rewrite", "target": "responses", "required": False},
    ],
}


def responses(*texts: str, models: tuple[str, ...] = ("m1", "m2")) -> list[dict[str, Any]]:
    return [{"id": f"r{i + 1}", "content": t, "model": models[i], "meta": {"t": 0.7}} for i, t in enumerate(texts)]


ITEMS = [
    {"id": "i1", "prompt": "What is 2+2?", "responses": responses("4", "5", models=("m1", "@evil()"))},
    {"id": "i2", "prompt": "=cmd|' /C calc'!A0", "responses": responses("=HYPERLINK(\"x\")", "fine")},
    {"id": "i3", "prompt": "Say hi", "responses": responses("hi", "hello")},
    {"id": "i4", "prompt": "Pick one", "responses": responses("one", "two")},
]


def pref(left: str, right: str, winner: str) -> dict[str, Any]:
    return {"left": left, "right": right, "winner": winner}


def rated(r1: tuple[int, int], r2: tuple[int, int]) -> dict[str, Any]:
    return {"r1": {"helpful": r1[0], "correct": r1[1]}, "r2": {"helpful": r2[0], "correct": r2[1]}}


# Per annotator and item: the answer. a and b answer alike but for i4, where they split (and c
# gives no preference), so their reliabilities are equal and i4's two scores exactly so.
ANSWERS: dict[str, dict[str, dict[str, Any]]] = {
    "a": {
        "i1": {"pref": pref("r1", "r2", "left"), "quality": rated((5, 5), (1, 2))},
        "i2": {"pref": pref("r2", "r1", "left")},
        "i3": {"pref": pref("r1", "r2", "tie"), "fix": {"response": "r1", "text": "Hi there!"}},
        "i4": {"pref": pref("r1", "r2", "left")},
    },
    "b": {
        "i1": {"pref": pref("r2", "r1", "right"), "quality": rated((5, 4), (1, 2))},
        "i2": {"pref": pref("r1", "r2", "right")},
        "i3": {"pref": pref("r2", "r1", "tie")},
        "i4": {"pref": pref("r1", "r2", "right")},
    },
    "c": {
        "i1": {"pref": pref("r1", "r2", "left"), "quality": rated((5, 5), (1, 2))},
        "i2": {"pref": pref("r1", "r2", "left")},
        "i3": {"pref": pref("r1", "r2", "tie")},
        "i4": {"quality": rated((3, 3), (3, 3))},
    },
}


@pytest.fixture
def labelled(world: World) -> tuple[World, User, int, dict[str, int]]:
    owner = world.user("owner")
    people = {name: world.user(name) for name in ANSWERS}
    pid = world.project(owner, schema=SCHEMA, overlap=3, members={"annotator": tuple(people.values())},
                        name="LLM / feedback")
    world.import_records(owner, pid, ITEMS)
    ids: dict[str, int] = {}
    for name, user in people.items():
        for _ in ITEMS:
            t = world.next(user, pid).json()
            ids[t["external_id"]] = t["item_id"]
            r = world.submit(user, pid, t["item_id"], ANSWERS[name][t["external_id"]])
            assert r.status_code == 201, r.text
    return world, owner, pid, ids


def export(world: World, user: User, pid: int, fmt: str, **params: Any) -> Any:
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": fmt, **params}, headers=user.headers)
    assert r.status_code == 200, r.text
    return r


def comparisons(ids: dict[str, int]) -> pd.DataFrame:
    """What the export must fit: every preference answer as a comparison of `<item>:<response>` keys."""
    rows = []
    for worker, answered in ANSWERS.items():
        for ext, value in answered.items():
            p = value.get("pref")
            if p is None:
                continue
            key = {side: f"{ids[ext]}:{p[side]}" for side in ("left", "right")}
            rows.append((worker, key["left"], key["right"], key.get(p["winner"], "tie")))
    return pd.DataFrame(rows, columns=["worker", "left", "right", "label"])


def test_dpo_pairs_from_the_aggregate(labelled: tuple[World, User, int, dict[str, int]]) -> None:
    world, owner, pid, ids = labelled
    r = export(world, owner, pid, "dpo")
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="LLM___feedback-dpo.jsonl"' in r.headers["content-disposition"]
    rows = [json.loads(line) for line in r.text.splitlines()]
    scores = default_pairwise_aggregator().fit_predict(comparisons(ids))
    margin = {ext: scores[f"{ids[ext]}:{win}"] - scores[f"{ids[ext]}:{lose}"]
              for ext, win, lose in (("i1", "r1", "r2"), ("i2", "r2", "r1"))}
    assert rows == [
        {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5", "margin": pytest.approx(margin["i1"]),
         "item_id": ids["i1"], "chosen_id": "r1", "rejected_id": "r2"},
        {"prompt": "=cmd|' /C calc'!A0", "chosen": "fine", "rejected": '=HYPERLINK("x")',
         "margin": pytest.approx(margin["i2"]), "item_id": ids["i2"], "chosen_id": "r2", "rejected_id": "r1"},
    ]
    assert rows[0]["margin"] > rows[1]["margin"] > 0  # 3-0 is surer than 2-1
    summary = json.loads(r.headers["x-labelloop-summary"])
    assert summary["dpo"] == {"question": "pref", "pairs": 2, "ties_left_out": 1, "no_winner_left_out": 1,
                              "comparisons": 11}
    assert summary["annotators"] == 3 and summary["answers"] == 11  # c gave no preference on i4


def test_sft_from_winners_and_accepted_rewrites(labelled: tuple[World, User, int, dict[str, int]]) -> None:
    world, owner, pid, _ = labelled
    r = export(world, owner, pid, "sft")
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert rows == [
        {"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]},
        {"messages": [{"role": "user", "content": "=cmd|' /C calc'!A0"}, {"role": "assistant", "content": "fine"}]},
        {"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi there!"}]},
    ]
    assert json.loads(r.headers["x-labelloop-summary"])["sft"] == {"rows": 3, "from_winners": 2, "from_rewrites": 1}


def test_ratings_csv_and_parquet(labelled: tuple[World, User, int, dict[str, int]]) -> None:
    world, owner, pid, ids = labelled
    text = export(world, owner, pid, "ratings").text
    assert text.startswith("item_id,id,question,response_id,model,criterion,score,n_ratings\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    got = [(r["id"], r["response_id"], r["model"], r["criterion"], r["n_ratings"]) for r in rows]
    assert got == [
        ("i1", "r1", "m1", "helpful", "3"), ("i1", "r1", "m1", "correct", "3"),
        ("i1", "r2", "'@evil()", "helpful", "3"), ("i1", "r2", "'@evil()", "correct", "3"),  # neutralised
        ("i4", "r1", "m1", "helpful", "1"), ("i4", "r1", "m1", "correct", "1"),
        ("i4", "r2", "m2", "helpful", "1"), ("i4", "r2", "m2", "correct", "1"),
    ]
    scores = {(r["id"], r["response_id"], r["criterion"]): float(r["score"]) for r in rows}
    for criterion in ("helpful", "correct"):  # the robust aggregator, one fit per criterion
        long = pd.DataFrame([(f"{ext}:{rid}", worker, cells[criterion])
                             for worker, answered in ANSWERS.items() for ext, value in answered.items()
                             for rid, cells in value.get("quality", {}).items()], columns=["task", "worker", "label"])
        expected = RobustMean().fit_predict(long)
        for task, score in expected.items():
            ext, rid = str(task).split(":")
            assert scores[(ext, rid, criterion)] == pytest.approx(score)
    # Known answers: nobody is biased on `helpful`, so its cells are the ratings themselves; b's
    # lower `correct` shifts b's other ratings a little, and 5, 4, 5 stays between 4 and 5.
    assert [scores[("i1", "r1", "helpful")], scores[("i1", "r2", "helpful")], scores[("i4", "r1", "helpful")]] == [5, 1, 3]
    assert 4.0 < scores[("i1", "r1", "correct")] < 5.0 and scores[("i1", "r2", "correct")] == pytest.approx(2, abs=0.1)
    table = pq.read_table(io.BytesIO(export(world, owner, pid, "ratings-parquet").content)).to_pylist()
    assert [(t["id"], t["response_id"], t["model"], t["criterion"]) for t in table] == [
        (a, b, c.lstrip("'"), d) for a, b, c, d, _ in got]  # Parquet is exact: no quote
    assert table[0]["item_id"] == ids["i1"] and table[0]["score"] == 5.0 and table[0]["n_ratings"] == 3


def test_hf_dataset_zip(labelled: tuple[World, User, int, dict[str, int]], monkeypatch: pytest.MonkeyPatch,
                        tmp_path: Any) -> None:
    world, owner, pid, ids = labelled
    monkeypatch.setattr(feedback_stream, "SHARD_ROWS", 1)  # two DPO pairs: two shards
    r = export(world, owner, pid, "hf", license="apache-2.0")
    assert r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = archive.namelist()
    assert names == [
        "data/dpo/train-00000-of-00002.parquet", "data/dpo/train-00001-of-00002.parquet",
        "data/sft/train-00000-of-00003.parquet", "data/sft/train-00001-of-00003.parquet",
        "data/sft/train-00002-of-00003.parquet",
        *[f"data/ratings/train-{k:05d}-of-00008.parquet" for k in range(8)],
        "README.md",
    ]
    dpo = [pq.read_table(io.BytesIO(archive.read(n))).to_pylist() for n in names[:2]]
    assert [d[0]["chosen_id"] for d in dpo] == ["r1", "r2"] and dpo[0][0]["item_id"] == ids["i1"]
    sft = pq.read_table(io.BytesIO(archive.read(names[4]))).to_pylist()
    assert sft == [{"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi there!"}],
                    "item_id": ids["i3"], "response_id": "r1", "source": "rewrite", "question": "fix"}]
    text = archive.read("README.md").decode()
    _, header, body = text.split("---\n", 2)
    card = yaml.safe_load(header)
    assert card["license"] == "apache-2.0" and card["pretty_name"] == "LLM / feedback"
    assert [c["config_name"] for c in card["configs"]] == ["dpo", "sft", "ratings"]
    assert card["configs"][0]["data_files"] == [{"split": "train", "path": "data/dpo/train-*"}]
    assert "text-generation" in card["task_categories"]
    assert "3 annotators gave 12 answers" in body and "labelloop 0.1.0" in body
    assert "left out: 1 ties and 1 pairs without a clear winner" in body and "Fleiss' kappa" in body
    if importlib.util.find_spec("datasets") is not None:  # the reference reader, offline
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
        import datasets

        folder, cache = tmp_path / "export", str(tmp_path / "cache")
        archive.extractall(folder)
        shards = datasets.load_dataset("parquet", data_files={"train": str(folder / "data/dpo/train-*.parquet")},
                                       split="train", cache_dir=cache)
        assert shards["chosen"] == ["4", "fine"]
        # The card's configs, as the Hub reads a dataset folder.
        by_card = {c: datasets.load_dataset(str(folder), c, split="train", cache_dir=cache)
                   for c in ("dpo", "sft", "ratings")}
        assert by_card["dpo"]["rejected"] == ["5", '=HYPERLINK("x")'] and len(by_card["ratings"]) == 8
        assert by_card["sft"][2]["messages"][1] == {"role": "assistant", "content": "Hi there!"}


def test_conversation_prompts(world: World) -> None:
    owner, a = world.user("owner"), world.user("a")
    schema = {"fields": [{"name": "chat", "type": "conversation"}, {"name": "responses", "type": "responses"}],
              "questions": [{"name": "pref", "type": "preference", "target": "responses", "required": False},
                            {"name": "fix", "type": "rewrite", "target": "responses", "required": False}]}
    pid = world.project(owner, schema=schema, members={"annotator": (a,)})
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
    # OpenAI's chat format: the last assistant message becomes the only candidate, r1.
    graded = {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "5"}]}
    world.import_records(owner, pid, [{"id": "c1", "chat": chat, "responses": responses("Paris", "Lyon")},
                                      {"id": "c2", **graded}])
    for value in ({"pref": pref("r2", "r1", "right")}, {"fix": {"response": "r1", "text": "4"}}):
        t = world.next(a, pid).json()
        assert world.submit(a, pid, t["item_id"], value).status_code == 201
    dpo = [json.loads(x) for x in export(world, owner, pid, "dpo").text.splitlines()]
    assert len(dpo) == 1 and dpo[0]["prompt"] == chat and dpo[0]["chosen"] == "Paris" and dpo[0]["rejected"] == "Lyon"
    sft = [json.loads(x) for x in export(world, owner, pid, "sft").text.splitlines()]
    assert sft == [{"messages": [*chat, {"role": "assistant", "content": "Paris"}]},
                   {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}]
    table = pq.read_table(io.BytesIO(zipfile.ZipFile(io.BytesIO(export(world, owner, pid, "hf").content))
                                     .read("data/dpo/train-00000-of-00001.parquet")))
    assert table.to_pylist()[0]["prompt"] == chat


def test_rankings_are_broken_into_pairs(world: World) -> None:
    owner = world.user("owner")
    people = [world.user(n) for n in "abc"]
    schema = {"fields": [{"name": "prompt", "type": "text"}, {"name": "responses", "type": "responses"}],
              "questions": [{"name": "rank", "type": "ranking", "target": "responses"},
                            {"name": "pref", "type": "preference", "target": "responses", "required": False}]}
    pid = world.project(owner, schema=schema, overlap=3, members={"annotator": tuple(people)})
    world.import_records(owner, pid, [{"id": "k1", "prompt": "Best?",
                                       "responses": responses("one", "two", "three", models=("x", "y", "z"))}])
    for user, order in zip(people, (["r3", "r1", "r2"], ["r3", "r2", "r1"], ["r3", "r1", "r2"]), strict=True):
        t = world.next(user, pid).json()
        assert world.submit(user, pid, t["item_id"], {"rank": {"order": order}}).status_code == 201
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": "dpo"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "question"  # rank or pref?
    rows = [json.loads(x) for x in export(world, owner, pid, "dpo", question="rank").text.splitlines()]
    # Every pair of the three, in the order of the candidates; r3 was ranked first by all.
    assert [(x["chosen_id"], x["rejected_id"]) for x in rows] == [("r1", "r2"), ("r3", "r1"), ("r3", "r2")]
    assert rows[1]["margin"] > rows[0]["margin"] > 0  # 3-0 beats 2-1
    sft = [json.loads(x) for x in export(world, owner, pid, "sft", question="rank").text.splitlines()]
    assert sft == [{"messages": [{"role": "user", "content": "Best?"}, {"role": "assistant", "content": "three"}]}]
    summary = json.loads(export(world, owner, pid, "hf", question="rank").headers["x-labelloop-summary"])
    assert summary["dpo"]["pairs"] == 3 and summary["dpo"]["comparisons"] == 9


def test_a_revision_replaces_the_answer_it_corrects(world: World) -> None:
    owner, a = world.user("owner"), world.user("a")
    pid = world.project(owner, schema=SCHEMA, members={"annotator": (a,)})
    world.import_records(owner, pid, ITEMS[:1])
    t = world.next(a, pid).json()
    first = world.submit(a, pid, t["item_id"], {"pref": pref("r1", "r2", "right")}).json()
    assert [json.loads(x)["chosen_id"] for x in export(world, owner, pid, "dpo").text.splitlines()] == ["r2"]
    r = world.client.post(f"/api/projects/{pid}/answers/{first['id']}/revisions",
                          json={"value": {"pref": pref("r1", "r2", "left")}}, headers=a.headers)
    assert r.status_code == 201, r.text
    got = export(world, owner, pid, "dpo")
    assert [json.loads(x)["chosen_id"] for x in got.text.splitlines()] == ["r1"]
    assert json.loads(got.headers["x-labelloop-summary"])["answers"] == 1


def test_formats_need_their_question_types(world: World) -> None:
    owner, a = world.user("owner"), world.user("a")
    plain = world.project(owner, members={"annotator": (a,)})  # choice, rating, text questions only
    for fmt, wanted in (("dpo", "a preference or ranking question"), ("ratings", "a criteria question"),
                        ("hf", "a preference, ranking, rewrite or criteria question")):
        r = world.client.get(f"/api/projects/{plain}/export", params={"format": fmt}, headers=owner.headers)
        assert r.status_code == 422, r.text
        problem = r.json()["error"]["problems"][0]
        assert problem["field"] == "format" and wanted in problem["message"] and "sentiment (choice)" in problem["message"]
    prefs_only = world.project(owner, schema={**SCHEMA, "questions": SCHEMA["questions"][:1]})
    r = world.client.get(f"/api/projects/{prefs_only}/export", params={"format": "ratings-parquet"}, headers=owner.headers)
    assert r.status_code == 422 and "pref (preference)" in r.json()["error"]["problems"][0]["message"]
    r = world.client.get(f"/api/projects/{prefs_only}/export", params={"format": "dpo", "question": "nope"},
                         headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "question"
    r = world.client.get(f"/api/projects/{prefs_only}/export", params={"format": "hf", "license": "<b>"},
                         headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "license"
    r = world.client.get(f"/api/projects/{prefs_only}/export", params={"format": "dpo"}, headers=a.headers)
    assert r.status_code == 404  # not a member: the project is not there for them


def test_empty_project_exports_empty_tables(world: World) -> None:
    owner = world.user("owner")
    pid = world.project(owner, schema=SCHEMA)
    world.import_records(owner, pid, ITEMS[:1])
    assert export(world, owner, pid, "dpo").content == b""
    assert export(world, owner, pid, "ratings").text == "item_id,id,question,response_id,model,criterion,score,n_ratings\r\n"
    assert pq.read_table(io.BytesIO(export(world, owner, pid, "ratings-parquet").content)).num_rows == 0
    archive = zipfile.ZipFile(io.BytesIO(export(world, owner, pid, "hf").content))
    assert archive.namelist() == ["README.md"]
    assert yaml.safe_load(archive.read("README.md").decode().split("---\n")[1])["configs"] == []


def test_export_streams_a_chunk_of_items_at_a_time(labelled: tuple[World, User, int, dict[str, int]],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    world, _, pid, _ = labelled
    from labelloop.services.exporting.feedback import rows

    monkeypatch.setattr(rows, "CHUNK", 1)
    with world.runtime.db.read() as conn:
        plan = exports.plan_export(conn, Actor.operator(), pid, "dpo")
    parts = list(exports.stream_export(world.runtime.db, plan))
    assert [p.count(b"\n") for p in parts] == [1, 1]  # one item per chunk; items without a pair write nothing


# Random preference answers: (item, worker, left, right, winner) on items of 2 to 4 candidates.
votes_strategy = st.lists(
    st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4),
              st.sampled_from(["left", "right", "tie"])).filter(lambda v: v[2] != v[3]),
    min_size=1, max_size=40,
)


def as_votes(raw: list[tuple[int, int, int, int, str]], *, mirrored: bool = False) -> list[Vote]:
    latest = {}
    for item, worker, x, y, winner in raw:  # one answer per annotator and item, as the export reads
        left, right = (f"r{y}", f"r{x}") if mirrored else (f"r{x}", f"r{y}")
        side = {"left": "right", "right": "left"}.get(winner, winner) if mirrored else winner
        latest[(item, worker)] = {"left": left, "right": right, "winner": side}
    return [Vote(i, w, v) for (i, w), v in sorted(latest.items())]


@settings(max_examples=60, deadline=None)
@given(votes_strategy)
def test_dpo_pairs_invariants(raw: list[tuple[int, int, int, int, str]]) -> None:
    votes = as_votes(raw)
    got = preferences("preference", votes)
    compared: dict[int, set[frozenset[str]]] = {}
    for v in votes:
        compared.setdefault(v.item_id, set()).add(frozenset((v.value["left"], v.value["right"])))
    # Every compared pair is either exported once or counted as left out.
    assert got.n_pairs + got.ties + got.no_winner == sum(len(p) for p in compared.values())
    for item, pairs in got.pairs.items():
        assert len({frozenset((p.chosen, p.rejected)) for p in pairs}) == len(pairs)
        for p in pairs:
            assert frozenset((p.chosen, p.rejected)) in compared[item] and p.margin >= EPS
            # The item's winner is never the rejected side of a pair.
            assert got.winners.get(item) != p.rejected
    # Which side a candidate was shown on does not change what is decided.
    flipped = preferences("preference", as_votes(raw, mirrored=True))
    assert {(i, p.chosen, p.rejected) for i, ps in flipped.pairs.items() for p in ps} == {
        (i, p.chosen, p.rejected) for i, ps in got.pairs.items() for p in ps}
    assert (flipped.ties, flipped.no_winner, flipped.winners) == (got.ties, got.no_winner, got.winners)


def test_cli_export_writes_the_file_and_says_what_was_left_out(
    labelled: tuple[World, User, int, dict[str, int]], tmp_path: Any, database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from labelloop.cli.main import app
    from labelloop.config import get_settings

    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    target = tmp_path / "prefs.jsonl"
    try:
        result = CliRunner().invoke(app, ["export", "LLM / feedback", "--format", "dpo", "-o", str(target)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["chosen"] for x in target.read_text().splitlines()] == ["4", "fine"]
    assert '"ties_left_out": 1' in result.output and '"no_winner_left_out": 1' in result.output
