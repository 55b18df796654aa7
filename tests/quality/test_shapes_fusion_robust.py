"""The default box fusion's habits-and-outliers model (quality/shapes/fusion.py, robust_fusion) and the
accelerated EM that decides which clusters are real (quality/shapes/existence.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from labelloop.quality import BoxAggregator
from labelloop.quality.shapes._input import encode_boxes
from labelloop.quality.shapes.existence import _Design, _e_step, _em_map, _EMState, _m_step, fit_existence
from labelloop.quality.shapes.matching import cluster_boxes
from labelloop.quality.shapes.simulate import simulate_box_crowd

TRUE = np.array([100.0, 100.0, 200.0, 300.0])  # 100 wide, 200 high


def crowd(
    rng: np.random.Generator, n_tasks: int, draw: dict[str, np.ndarray], noise: dict[str, float] | None = None
) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """One object per task, moved about; each worker draws it as ``truth + offset*size + noise*size``."""
    rows, truths = [], []
    size = np.array([100.0, 200.0, 100.0, 200.0])
    for t in range(n_tasks):
        truth = TRUE + rng.uniform(0, 500)
        truths.append(truth)
        for worker, offset in draw.items():
            box = truth + offset * size + rng.normal(0, (noise or {}).get(worker, 0.01), 4) * size
            rows.append((f"t{t}", worker, [box.tolist()]))
    return pd.DataFrame(rows, columns=["task", "worker", "boxes"]), truths


def mean_edge_error(out: pd.Series, truths: list[np.ndarray]) -> float:
    return float(np.mean([np.abs(np.array(out[f"t{t}"][0]) - truth).max() for t, truth in enumerate(truths)]))


def test_sloppy_annotators_habit_is_learned_and_taken_out() -> None:
    """Careful annotators draw tight boxes; sloppy ones draw them loose *and* noisy (as real crowds do).
    Where only sloppy annotators saw an image, the weighted mean can only average their loose boxes;
    the model has learned their habit where careful ones were there too, and takes it out."""
    rng = np.random.default_rng(0)
    loose = np.array([-0.1, -0.05, 0.1, 0.05])  # a tenth of the width and a twentieth of the height out
    draw = {"a": np.zeros(4), "b": np.zeros(4), "c": np.zeros(4), "d": loose, "e": loose}
    noise = {"a": 0.01, "b": 0.01, "c": 0.01, "d": 0.03, "e": 0.03}
    together, _ = crowd(rng, 80, draw, noise)
    alone, truths = crowd(rng, 20, {w: draw[w] for w in "de"}, noise)
    answers = pd.concat([together.assign(task="all-" + together["task"]), alone], ignore_index=True)
    robust = BoxAggregator().fit(answers)
    plain = BoxAggregator(fusion="mean").fit(answers)
    # offsets are centred on the precision-weighted annotator, the sloppy ones weighing a little: the
    # learned habit falls a little short of the true one
    np.testing.assert_allclose(robust.bias_.loc[["d", "e"]].to_numpy(), [loose, loose], atol=0.025)
    np.testing.assert_allclose(robust.bias_.loc[["a", "b", "c"]].to_numpy(), 0.0, atol=0.015)
    assert mean_edge_error(plain.boxes_, truths) > 8  # the habit, a tenth of a 100-pixel width
    assert mean_edge_error(robust.boxes_, truths) < mean_edge_error(plain.boxes_, truths) / 2


def test_a_slip_moves_the_robust_fusion_less_than_the_weighted_mean() -> None:
    rng = np.random.default_rng(1)
    answers, truths = crowd(rng, 60, {w: np.zeros(4) for w in "abcde"})
    # each usually careful worker slips once, on a task of its own: the box half a width to the right
    for t, worker in enumerate("abcde"):
        slip = (answers["task"] == f"t{t}") & (answers["worker"] == worker)
        answers.loc[slip, "boxes"] = pd.Series([[(truths[t] + [50, 0, 50, 0]).tolist()]], index=answers.index[slip])
    robust = BoxAggregator().fit_predict(answers)
    plain = BoxAggregator(fusion="mean").fit_predict(answers)
    error = {
        name: max(np.abs(np.array(out[f"t{t}"][0]) - truths[t]).max() for t in range(5))
        for name, out in (("t", robust), ("mean", plain))
    }
    assert error["mean"] > 5  # a fifth of the slip: the mean takes it in
    assert error["t"] < error["mean"] / 4


def plain_em_loglik(answers: pd.DataFrame, steps: int) -> float:
    """The log-likelihood per cluster that plain (unaccelerated) EM reaches after *steps* steps."""
    data = encode_boxes(answers)
    box_cluster, cl_task = cluster_boxes(data, priority=np.zeros(data.n_workers), weights=np.ones(data.n_workers),
                                         match_iou=0.3)
    design = _Design.build(cl_task, box_cluster, data.box_worker, data.task, data.worker, data.n_tasks, data.n_workers)
    m = len(cl_task)
    reference = fit_existence(
        cl_task=cl_task, box_cluster=box_cluster, box_worker=data.box_worker, answer_task=data.task,
        answer_worker=data.worker, n_tasks=data.n_tasks, n_workers=data.n_workers, levels=2, shrinkage=2.0,
        n_iter=1, tol=0.0,
    )  # one cycle: only to get a start that both runs share
    state = _EMState(reference.rates, reference.prior)
    loglik = -np.inf
    for _ in range(steps):
        state, loglik = _em_map(state, design, 2.0)
    return float(loglik) / m


def test_the_accelerated_em_reaches_the_likelihood_plain_em_needs_far_more_steps_for() -> None:
    answers, _ = simulate_box_crowd(n_tasks=400, n_workers=15, seed=3)
    data = encode_boxes(answers)
    box_cluster, cl_task = cluster_boxes(data, priority=np.zeros(data.n_workers), weights=np.ones(data.n_workers),
                                         match_iou=0.3)
    kwargs = dict(cl_task=cl_task, box_cluster=box_cluster, box_worker=data.box_worker, answer_task=data.task,
                  answer_worker=data.worker, n_tasks=data.n_tasks, n_workers=data.n_workers, levels=2,
                  shrinkage=2.0)
    fast = fit_existence(**kwargs, n_iter=300, tol=1e-7)  # type: ignore[arg-type]
    design = _Design.build(cl_task, box_cluster, data.box_worker, data.task, data.worker, data.n_tasks, data.n_workers)
    q, fast_loglik, _ = _e_step(fast.rates, fast.prior, design)
    slow = plain_em_loglik(answers, steps=fast.n_iter)
    long_run = plain_em_loglik(answers, steps=3000)
    per_cluster = fast_loglik / len(cl_task)
    assert per_cluster >= slow - 1e-9  # never worse than as many plain steps
    assert abs(per_cluster - long_run) < 1e-4  # and at the optimum plain EM reaches in 3,000
    assert fast.n_iter < 300
    np.testing.assert_allclose(1 - q[:, np.argmin(fast.rates.mean(axis=0))], fast.real, atol=1e-6)
    _m_step(q, fast.rates, design, 2.0, None)  # the M-step accepts the fitted posteriors as they are
