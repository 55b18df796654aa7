"""A simulated crowd drawing boxes, with known ground truth: for tests, benchmarks and choosing defaults.

Each task is an image (``width x height``) with a Poisson number of objects (mean ``objects``) of
log-normal height (median ``object_height`` px, log-sd 0.7) and aspect ratio 2.5:1 (people); some
objects are small and hard to see. Each annotator has a recall, a false-box rate and a localisation
noise drawn once: on each task they answer, they draw each object with probability
``recall_w * visibility(object) ** skill_w``, where visibility rises linearly in log height from
``visibility[0]`` at ``visibility[1]`` px to 1 at ``visibility[2]`` px (default 0.3 at 12 px to 1 at
120 px; ``(1, ...)`` makes recall independent of size) and ``skill_w = exp(N(0, size_skill))`` lets
annotators differ in how much they miss small objects (``size_skill=0``: all alike). Every coordinate
is jittered by Gaussian noise of ``noise_w`` times the object's width or height; one box in twenty
is sloppy (noise five times larger); ``loose > 0`` makes each annotator draw boxes too large by a
margin of their own, uniform in ``[0, 2 * loose]`` of the width and height on every side (a
convention, not noise). Each draws a Poisson(``false_w``) number of boxes where there is nothing, of
log-normal height (median ``false_height`` px, log-sd 0.6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_box_crowd(
    *,
    n_tasks: int,
    n_workers: int = 20,
    per_task: int = 7,
    objects: float = 1.3,
    width: float = 1280.0,
    height: float = 720.0,
    object_height: float = 90.0,
    visibility: tuple[float, float, float] = (0.3, 12.0, 120.0),
    size_skill: float = 0.0,
    loose: float = 0.0,
    false_height: float = 60.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """Answers (``task, worker, boxes``) and the true boxes (Series task -> list of boxes)."""
    if per_task > n_workers:
        raise ValueError("per_task cannot exceed n_workers")
    floor, small, large = visibility
    if not (0 < floor <= 1 and 0 < small < large):
        raise ValueError("visibility must be (floor in (0, 1], small px, large px) with small < large")
    rng = np.random.default_rng(seed)
    extra = np.random.default_rng([seed, 1])  # the optional effects draw from their own stream
    recall = rng.uniform(0.7, 0.98, n_workers)
    false_rate = rng.gamma(1.0, 0.12, n_workers)
    noise = rng.uniform(0.02, 0.10, n_workers)
    skill = np.exp(extra.normal(0.0, size_skill, n_workers)) if size_skill > 0 else np.ones(n_workers)
    margin = extra.uniform(0.0, 2.0 * loose, n_workers) if loose > 0 else np.zeros(n_workers)
    n_obj = rng.poisson(objects, n_tasks)
    obj_task = np.repeat(np.arange(n_tasks), n_obj)
    h = np.exp(rng.normal(np.log(object_height), 0.7, len(obj_task))).clip(12, height * 0.9)
    w = h / 2.5
    x1 = rng.uniform(0, width - w)
    y1 = rng.uniform(0, height - h)
    truth_boxes = np.stack([x1, y1, x1 + w, y1 + h], axis=1)
    rise = (np.log(h) - np.log(small)) / (np.log(large) - np.log(small))
    visible = np.clip(floor + (1 - floor) * rise, floor, 1.0)
    workers = np.argsort(rng.random((n_tasks, n_workers)), axis=1)[:, :per_task]
    a_task = np.repeat(np.arange(n_tasks), per_task)
    a_worker = workers.ravel()
    # objects x answers on the same task
    per_obj = np.bincount(obj_task, minlength=n_tasks)
    pair_obj = np.repeat(np.arange(len(obj_task)), per_task)
    pair_answer = (obj_task[:, None] * per_task + np.arange(per_task)[None, :]).ravel()
    pw = a_worker[pair_answer]
    drawn = rng.random(len(pair_obj)) < recall[pw] * visible[pair_obj] ** skill[pw]
    pair_obj, pair_answer, pw = pair_obj[drawn], pair_answer[drawn], pw[drawn]
    scale = noise[pw] * np.where(rng.random(len(pw)) < 0.05, 5.0, 1.0)
    size = np.stack([w, h, w, h], axis=1)[pair_obj]
    outward = np.array([-1.0, -1.0, 1.0, 1.0]) * margin[pw, None] * size
    boxes = truth_boxes[pair_obj] + outward + rng.normal(0, 1, (len(pw), 4)) * scale[:, None] * size
    n_false = rng.poisson(false_rate[a_worker])
    f_answer = np.repeat(np.arange(len(a_task)), n_false)
    fh = np.exp(rng.normal(np.log(false_height), 0.6, len(f_answer))).clip(8, height * 0.5)
    fx, fy = rng.uniform(0, width - fh / 2.5), rng.uniform(0, height - fh)
    false_boxes = np.stack([fx, fy, fx + fh / 2.5, fy + fh], axis=1)
    all_answer = np.concatenate([pair_answer, f_answer])
    all_boxes = np.concatenate([boxes, false_boxes])
    all_boxes[:, [0, 2]] = np.sort(all_boxes[:, [0, 2]].clip(0, width), axis=1)
    all_boxes[:, [1, 3]] = np.sort(all_boxes[:, [1, 3]].clip(0, height), axis=1)
    order = np.argsort(all_answer, kind="stable")
    rows = np.round(all_boxes[order], 2).tolist()
    bounds = np.searchsorted(all_answer[order], np.arange(len(a_task) + 1))
    answers = pd.DataFrame(
        {
            "task": a_task,
            "worker": [f"w{i}" for i in a_worker],
            "boxes": [rows[bounds[i] : bounds[i + 1]] for i in range(len(a_task))],
        }
    )
    truth_rows = truth_boxes.tolist()
    starts = np.concatenate([[0], np.cumsum(per_obj)])
    truth = pd.Series(
        [truth_rows[starts[t] : starts[t + 1]] for t in range(n_tasks)],
        index=pd.RangeIndex(n_tasks, name="task"),
        name="boxes",
        dtype=object,
    )
    return answers, truth
