"""Input checking and encoding of rankings, done once at the boundary; the choice stages of each ranking.

Ranking aggregators accept a :class:`pandas.DataFrame` (or a mapping of equally long columns) with
columns ``task``, ``worker``, ``ranking``: each ``ranking`` is a list (tuple, array) of item ids, best
first. Rules, following :mod:`labelloop.quality._input`:

1. a row whose ``ranking`` is missing (``None``/``NaN``) is no answer and is dropped;
2. a missing ``task`` or ``worker`` id is an error, as is a ranking that is not a list, holds a missing
   id, or names an item twice; the error names the first bad row by its index label;
3. duplicate ``(task, worker)`` rows: the last row wins;
4. nothing left is an error.

*Partial* rankings. ``partial="subset"`` (the default): a ranking orders the items it lists among
themselves and says nothing about the others (the annotator may not have seen them). ``partial="top"``:
the candidates of a task are every item anyone ranked in it, and an annotator's unlisted candidates
rank below all their listed ones, in no particular order (a top-k answer).

Choice stages (Plackett-Luce's view of a ranking, Luce 1959; Plackett 1975): a ranking
:math:`a_1 \\succ a_2 \\succ \\dots` of the choice set :math:`S` is a sequence of choices: :math:`a_1` chosen
from :math:`S`, :math:`a_2` from :math:`S \\setminus \\{a_1\\}`, and so on while more than one item
remains (with ``"top"``, the unlisted candidates stay in every choice set). :class:`Rankings` holds
the stages as flat arrays (one entry per (stage, member)), so every fit is a few ``np.bincount``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Codes: TypeAlias = NDArray[np.intp]
Floats: TypeAlias = NDArray[np.float64]
RankingsLike: TypeAlias = "pd.DataFrame | Mapping[str, Any]"
Partial: TypeAlias = Literal["subset", "top"]

COLUMNS = ("task", "worker", "ranking")


@dataclass(frozen=True, eq=False)
class Rankings:
    """Encoded rankings: per ranking its task and worker; per listed element its ranking, position
    and item; per choice stage its ranking and chosen item; per (stage, member) pair the stage and
    the member item (members of one stage are contiguous)."""

    task: Codes  # per ranking
    worker: Codes
    element_ranking: Codes  # per listed element (and unlisted candidate with "top": position >= length)
    element_position: Codes
    element_item: Codes
    element_listed: NDArray[np.bool_]
    stage_ranking: Codes  # per choice stage
    stage_chosen: Codes
    member_stage: Codes  # per (stage, member)
    member_item: Codes
    tasks: pd.Index
    workers: pd.Index
    items: pd.Index

    @property
    def n_rankings(self) -> int:
        return int(self.task.shape[0])

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_stages(self) -> int:
        return int(self.stage_ranking.shape[0])

    def choice_set_sizes(self) -> NDArray[np.int64]:
        """Number of items in each ranking's (first) choice set."""
        return np.bincount(self.element_ranking, minlength=self.n_rankings)


def rankings_frame(rankings: RankingsLike) -> pd.DataFrame:
    """Check the shape of *rankings* and return it as a DataFrame (no copy if possible)."""
    if isinstance(rankings, pd.DataFrame):
        frame = rankings
    elif isinstance(rankings, Mapping):
        frame = pd.DataFrame({key: rankings[key] for key in rankings})
    else:
        raise TypeError(
            "rankings must be a DataFrame with columns task, worker, ranking or a mapping with those keys; "
            f"got {type(rankings).__name__}"
        )
    missing = [col for col in COLUMNS if col not in frame.columns]
    if missing:
        raise ValueError(f"rankings lack column(s) {missing}; they have {list(frame.columns)}")
    return frame


def _row_error(frame: pd.DataFrame, pos: int, what: str) -> ValueError:
    task, worker = (_plain(frame[col].iat[pos]) for col in ("task", "worker"))
    return ValueError(f"row {frame.index[pos]!r} (task {task!r}, worker {worker!r}): {what}")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, for readable error messages."""
    return value.item() if isinstance(value, np.generic) else value


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _check_rankings(frame: pd.DataFrame, rows: NDArray[np.intp]) -> list[list[Any]]:
    out: list[list[Any]] = []
    column = frame["ranking"]
    for pos in rows:
        value = column.iat[pos]
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray, pd.Series)):
            raise _row_error(
                frame, int(pos), f"ranking must be a list of item ids, got {type(value).__name__}"
            )
        items = list(value)
        if any(_is_missing(item) for item in items):
            raise _row_error(frame, int(pos), "ranking holds a missing item id")
        try:
            distinct = len(set(items))
        except TypeError as exc:
            raise _row_error(frame, int(pos), f"item ids must be hashable: {exc}") from None
        if distinct != len(items):
            raise _row_error(frame, int(pos), "ranking names an item twice")
        out.append(items)
    return out


def _stages(
    element_ranking: Codes, element_position: Codes, element_item: Codes, n_stages: NDArray[np.int64]
) -> tuple[Codes, Codes, Codes, Codes]:
    """Flat stage arrays: element at position p is a member of stages 0 .. min(p, n_stages - 1)."""
    offsets = np.concatenate([[0], np.cumsum(n_stages)[:-1]]).astype(np.intp)
    last = n_stages[element_ranking] - 1
    count = np.where(last >= 0, np.minimum(element_position, last) + 1, 0)
    member_item = np.repeat(element_item, count)
    local = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    member_stage = (np.repeat(offsets[element_ranking], count) + local).astype(np.intp)
    order = np.argsort(member_stage, kind="stable")
    stage_ranking = np.repeat(np.arange(n_stages.shape[0]), n_stages).astype(np.intp)
    stage_chosen = np.zeros(int(n_stages.sum()), dtype=np.intp)
    chooses = element_position <= last
    stage_chosen[offsets[element_ranking[chooses]] + element_position[chooses]] = element_item[chooses]
    return stage_ranking, stage_chosen, member_stage[order], member_item[order]


def encode_rankings(rankings: RankingsLike, *, partial: Partial = "subset") -> Rankings:
    """Validate and encode *rankings* (see the module docstring for the rules and stages)."""
    if partial not in ("subset", "top"):
        raise ValueError(f"partial must be 'subset' or 'top', got {partial!r}")
    frame = rankings_frame(rankings)
    present = ~frame["ranking"].map(_is_missing).to_numpy(dtype=bool)
    rows = np.flatnonzero(present)
    if rows.size == 0:
        raise ValueError("rankings are empty: no row with a ranking")
    for name in ("task", "worker"):
        missing = frame[name].iloc[rows].isna().to_numpy()
        if missing.any():
            raise _row_error(frame, int(rows[np.argmax(missing)]), f"missing {name}")
    task, tasks = pd.factorize(frame["task"].iloc[rows], sort=False)
    worker, workers = pd.factorize(frame["worker"].iloc[rows], sort=False)
    key = pd.Series(task.astype(np.int64) * max(len(workers), 1) + worker)
    last = ~key.duplicated(keep="last").to_numpy()
    rows, task, worker = rows[last], task[last], worker[last]
    lists = _check_rankings(frame, rows)
    lengths = np.array([len(r) for r in lists], dtype=np.int64)
    flat = pd.Series([item for r in lists for item in r], dtype=object)
    item, items = pd.factorize(flat, sort=False)
    element_ranking = np.repeat(np.arange(len(lists)), lengths).astype(np.intp)
    element_position = (
        np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    ).astype(np.intp)
    element_item = item.astype(np.intp)
    listed = np.ones(element_item.shape[0], dtype=bool)
    n_stages = np.maximum(lengths - 1, 0)
    if partial == "top":
        element_ranking, element_position, element_item, listed, n_stages = _add_unlisted(
            task.astype(np.intp), element_ranking, element_position, element_item, lengths
        )
    stage_ranking, stage_chosen, member_stage, member_item = _stages(
        element_ranking, element_position, element_item, n_stages
    )
    return Rankings(
        task.astype(np.intp),
        worker.astype(np.intp),
        element_ranking,
        element_position,
        element_item,
        listed,
        stage_ranking,
        stage_chosen,
        member_stage,
        member_item,
        pd.Index(tasks),
        pd.Index(workers),
        pd.Index(items),
    )


def _add_unlisted(
    task: Codes,
    element_ranking: Codes,
    element_position: Codes,
    element_item: Codes,
    lengths: NDArray[np.int64],
) -> tuple[Codes, Codes, Codes, NDArray[np.bool_], NDArray[np.int64]]:
    """Append each ranking's unlisted candidates (items others ranked in its task) after its listed ones."""
    listed = pd.DataFrame({"ranking": element_ranking, "item": element_item, "task": task[element_ranking]})
    candidates = listed[["task", "item"]].drop_duplicates()
    per_ranking = pd.DataFrame({"ranking": np.arange(task.shape[0]), "task": task})
    wanted = per_ranking.merge(candidates, on="task")
    seen = wanted.merge(listed[["ranking", "item"]], on=["ranking", "item"], how="left", indicator=True)
    extra = seen[seen["_merge"] == "left_only"].sort_values(["ranking", "item"], kind="stable")
    extra_ranking = extra["ranking"].to_numpy(dtype=np.intp)
    extra_position = (lengths[extra_ranking] + extra.groupby("ranking").cumcount().to_numpy()).astype(np.intp)
    n_extra = np.bincount(extra_ranking, minlength=task.shape[0])
    # with unlisted candidates the last listed item is a real choice too
    n_stages = np.where(n_extra > 0, lengths, np.maximum(lengths - 1, 0))
    order = np.lexsort(
        (np.concatenate([element_position, extra_position]), np.concatenate([element_ranking, extra_ranking]))
    )
    ranking = np.concatenate([element_ranking, extra_ranking])[order]
    position = np.concatenate([element_position, extra_position])[order]
    item = np.concatenate([element_item, extra["item"].to_numpy(dtype=np.intp)])[order]
    is_listed = np.concatenate(
        [np.ones(element_item.shape[0], bool), np.zeros(extra_ranking.shape[0], bool)]
    )[order]
    return ranking, position, item, is_listed, n_stages
