"""The track aggregator, its baselines and the per-item weighted consensus: hand-made cases with known
answers, invariants, and a simulated crowd with known truth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality import (
    NaiveTrackConsensus,
    RandomWorkerTracks,
    TrackAggregator,
    default_track_aggregator,
    pairwise_track_agreement,
    simulate_track_crowd,
    track_gold_scores,
)
from labelloop.quality.tracks import track_set_scores, weighted_track_consensus


def moving(x0: float, frames: range, *, dy: float = 0.0, label: str | None = None) -> dict[str, Any]:
    """A 20 x 40 box moving right one pixel a frame."""
    t: dict[str, Any] = {"boxes": {f: [x0 + f, 10.0 + dy, x0 + f + 20, 50.0 + dy] for f in frames}}
    if label is not None:
        t["label"] = label
    return t


def answers(rows: list[tuple[Any, Any, list[dict[str, Any]]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "tracks"])


def crowd_of_three() -> pd.DataFrame:
    """Three annotators on two videos: two real objects each, one stray track by w3 on video 'a'."""
    rows = []
    for task in ("a", "b"):
        for w in ("w1", "w2", "w3"):
            tracks = [moving(0, range(0, 30)), moving(200, range(5, 25))]
            if task == "a" and w == "w3":
                tracks.append(moving(600, range(0, 8)))
            rows.append((task, w, [t | {"id": f"{w}{k}"} for k, t in enumerate(tracks)]))
    return answers(rows)


def test_identical_tracks_fuse_to_themselves_and_a_stray_track_is_dropped() -> None:
    agg = default_track_aggregator()
    fused = agg.fit_predict(crowd_of_three())
    for task in ("a", "b"):
        got = fused[task]
        assert [t["id"] for t in got] == ["t1", "t2"]
        assert got[0]["boxes"] == moving(0, range(0, 30))["boxes"]
        assert got[1]["boxes"] == moving(200, range(5, 25))["boxes"]
    clusters = agg.clusters_
    assert clusters["kept"].sum() == 4 and (~clusters["kept"]).sum() == 1
    assert clusters.loc[~clusters["kept"], "n_tracks"].tolist() == [1]
    assert agg.confidence_.min() > 0.5


def test_presence_is_a_vote() -> None:
    # Two of three annotators stop the track at frame 19; the fused track stops there too.
    rows = [("v", "w1", [moving(0, range(0, 30))]), ("v", "w2", [moving(0, range(0, 20))]),
            ("v", "w3", [moving(0, range(0, 20))])]
    fused = TrackAggregator(fusion="mean").fit_predict(answers(rows))
    assert sorted(fused["v"][0]["boxes"]) == list(range(0, 20))


def test_boxes_are_a_weighted_mean_that_favours_the_precise() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for task in range(20):
        truth = moving(0, range(0, 10))
        for w, noise in (("good", 0.2), ("fair", 0.5), ("poor", 2.5)):
            boxes = {f: [c + float(rng.normal(0, noise)) for c in b] for f, b in truth["boxes"].items()}
            rows.append((task, w, [{"id": 1, "boxes": boxes}]))
    agg = TrackAggregator(fusion="mean")
    agg.fit(answers(rows))
    assert agg.weights_["good"] > agg.weights_["fair"] > agg.weights_["poor"]
    assert agg.localisation_["poor"] > 3 * agg.localisation_["good"]


def test_classes_keep_tracks_apart_and_label_the_result() -> None:
    rows = [(0, w, [moving(0, range(10), label="car"), moving(0, range(10), dy=1, label="person")])
            for w in ("w1", "w2")]
    fused = default_track_aggregator().fit_predict(answers(rows))[0]
    assert sorted(t["label"] for t in fused) == ["car", "person"]


def test_result_does_not_depend_on_row_order_or_worker_names() -> None:
    data = crowd_of_three()
    first = default_track_aggregator().fit_predict(data)
    shuffled = data.sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled["worker"] = shuffled["worker"].map({"w1": "z", "w2": "y", "w3": "x"})
    second = default_track_aggregator().fit_predict(shuffled)
    for task in first.index:
        assert [t["boxes"] for t in first[task]] == [t["boxes"] for t in second[task]]


def test_empty_answers_and_bad_input() -> None:
    fused = default_track_aggregator().fit_predict(answers([("a", "w1", []), ("a", "w2", [])]))
    assert fused["a"] == []
    with pytest.raises(ValueError, match=r"row 1 \(task 'a', worker 'w2'\): tracks\[0\] frame 4"):
        default_track_aggregator().fit(answers([("a", "w1", []), ("a", "w2", [{"boxes": {4: [5, 5, 1, 9]}}])]))
    with pytest.raises(ValueError, match="frame 'x' is not a whole number"):
        default_track_aggregator().fit(answers([("a", "w1", [{"boxes": {"x": [0, 0, 1, 1]}}])]))
    with pytest.raises(ValueError, match="lack column"):
        default_track_aggregator().fit(pd.DataFrame({"task": [1], "worker": [1]}))


def test_json_frame_keys_are_frames() -> None:
    as_json = [{"id": "a", "boxes": {str(f): b for f, b in moving(0, range(3))["boxes"].items()}}]
    fused = default_track_aggregator().fit_predict(answers([(0, "w1", as_json), (0, "w2", as_json)]))
    assert sorted(fused[0][0]["boxes"]) == [0, 1, 2]


def test_beats_one_annotator_and_the_majority_on_a_simulated_crowd() -> None:
    data, truth = simulate_track_crowd(n_tasks=25, seed=7)
    fused = track_set_scores(default_track_aggregator().fit_predict(data), truth)
    naive = track_set_scores(NaiveTrackConsensus().fit_predict(data), truth)
    single = track_set_scores(RandomWorkerTracks(seed=1).fit_predict(data), truth)
    for key in ("hota", "idf1"):
        assert fused[key] > naive[key] > single[key]
    assert fused["hota"] > 0.8


def test_learned_recall_finds_who_misses_objects() -> None:
    rows = []
    for task in range(20):
        both = [moving(0, range(10)), moving(300, range(10))]
        rows += [(task, w, both) for w in ("w1", "w2", "w3")]
        rows.append((task, "lazy", both[:1] if task % 2 else both))  # misses one object in four
    agg = default_track_aggregator().fit(answers(rows))
    assert agg.recall_["lazy"] < agg.recall_.drop("lazy").min() - 0.1
    assert all(len(tracks) == 2 for tracks in agg.tracks_)


def test_weighted_consensus_follows_the_weights() -> None:
    a = [{"id": 1, "boxes": moving(0, range(10))["boxes"]}]
    b = [{"id": 1, "boxes": moving(0, range(10))["boxes"]}, {"id": 2, "boxes": moving(300, range(5))["boxes"]}]
    # b's extra track carries 3 of 4 parts of the weight: kept; with equal weights: dropped (1/2 is no majority)
    heavy = weighted_track_consensus([a, b], [1.0, 3.0])
    assert [c.kept for c in heavy] == [True, True] and heavy[1].members == [(1, 1)]
    assert heavy[1].support == pytest.approx(0.75)
    even = weighted_track_consensus([a, b], [1.0, 1.0])
    assert [c.kept for c in even] == [True, False]
    assert even[0].boxes == {f: [float(x) for x in box] for f, box in moving(0, range(10))["boxes"].items()}


def test_gold_scores_and_pairwise_agreement() -> None:
    gold = pd.Series({"a": [moving(0, range(10)) | {"id": 1}]})
    rows = [("a", "good", [moving(0, range(10))]), ("a", "half", [moving(0, range(5))]),
            ("b", "good", [moving(0, range(3))])]
    scores = track_gold_scores(answers(rows), gold)
    assert scores.loc["good", "idf1"] == 1.0 and scores.loc["good", "n_gold"] == 1
    assert scores.loc["half", "idf1"] == pytest.approx(2 * 5 / 15)
    assert scores.loc["half", "mota"] == pytest.approx(0.5)
    agreement = pairwise_track_agreement(answers(rows))
    assert agreement["idf1"] == pytest.approx(2 * 5 / 15)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 1000))
def test_fused_tracks_are_well_formed(seed: int) -> None:
    data, _ = simulate_track_crowd(n_tasks=4, n_workers=5, per_task=3, n_frames=40, seed=seed)
    fused = default_track_aggregator().fit_predict(data)
    assert list(fused.index) == sorted(data["task"].unique())
    for tracks in fused:
        assert [t["id"] for t in tracks] == [f"t{k}" for k in range(1, len(tracks) + 1)]
        for t in tracks:
            assert t["boxes"]
            for box in t["boxes"].values():
                assert box[0] <= box[2] and box[1] <= box[3]


@pytest.mark.parametrize("options", [{"n_passes": 2}, {"fusion": "median"}, {"fusion": "mean", "difficulty_levels": 2}])
def test_every_option_keeps_identical_tracks_exact(options: dict[str, Any]) -> None:
    fused = TrackAggregator(**options).fit_predict(crowd_of_three())
    assert [t["boxes"] for t in fused["b"]] == [moving(0, range(0, 30))["boxes"], moving(200, range(5, 25))["boxes"]]


def test_options_are_checked() -> None:
    for bad in ({"match_iou": 0.0}, {"fusion": "max"}, {"n_passes": 0}, {"threshold": 2.0}):
        with pytest.raises(ValueError):
            TrackAggregator(**bad)
