r"""Agreement between two sets of tracks on one video: CLEAR MOT (MOTA), identity (IDF1) and HOTA.

Each set is a list of tracks after interpolation (:mod:`._input`); one is the reference ("truth":
gold, or the other annotator), the other the prediction. A detection is one track's box on one frame;
detections of tracks with different labels never match. All three are computed exactly as the
reference implementations compute them, and the tests check them against those libraries to 1e-6:

- **CLEAR MOT** (Bernardin & Stiefelhagen, EURASIP J. Image Video Process. 2008), as
  ``motmetrics.MOTAccumulator`` computes it: frame by frame, a reference object keeps the prediction
  it was matched to last if their IoU still reaches ``iou_threshold``; the rest are matched by the
  Hungarian algorithm, the most pairs first, then the smallest total distance 1 - IoU; a match to a
  prediction other than the object's last one is an identity switch (IDSW). With FN the unmatched
  reference detections, FP the unmatched predicted ones and GT the reference detections,
  :math:`\mathrm{MOTA} = 1 - (\mathrm{FN} + \mathrm{FP} + \mathrm{IDSW}) / \mathrm{GT}`.
- **Identity** (Ristani et al., "Performance Measures and a Data Set for Multi-Target, Multi-Camera
  Tracking", ECCV 2016 workshops), as ``motmetrics`` computes it: reference and predicted tracks are
  matched one-to-one once for the whole video, maximising IDTP, the number of frames where a matched
  pair overlaps at IoU >= ``iou_threshold``; :math:`\mathrm{IDF1} = 2\,\mathrm{IDTP} /
  (\mathrm{GT} + \mathrm{PR})` (PR: predicted detections).
- **HOTA** (Luiten et al., "HOTA: A Higher Order Metric for Evaluating Multi-Object Tracking",
  IJCV 129, 2021), as TrackEval computes it: for each localisation threshold
  :math:`\alpha \in \{0.05, 0.10, \dots, 0.95\}`, detections are matched frame by frame by the
  Hungarian algorithm on IoU times the pair of tracks' global alignment score (their soft Jaccard
  over the video), a pair counting when its IoU >= :math:`\alpha`;
  :math:`\mathrm{DetA}_\alpha = |TP| / (|TP| + |FN| + |FP|)`,
  :math:`\mathrm{AssA}_\alpha = \frac{1}{|TP|} \sum_{c \in TP}
  \frac{|TPA(c)|}{|TPA(c)| + |FNA(c)| + |FPA(c)|}`,
  :math:`\mathrm{HOTA} = \frac{1}{19} \sum_\alpha \sqrt{\mathrm{DetA}_\alpha \mathrm{AssA}_\alpha}`.

:class:`TrackCounts` holds the sums these are ratios of, so several videos pool as the libraries
pool sequences (CLEAR and identity counts summed; HOTA's TP, FN, FP summed and AssA weighted by TP).
Two empty sets agree perfectly (every score 1), where the libraries leave the ratio undefined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from labelloop.quality.shapes._input import Codes, Floats
from labelloop.quality.shapes.geometry import paired_box_iou
from labelloop.quality.tracks._input import FlatTracks, Track, flatten_tracks

ALPHAS = np.arange(0.05, 0.99, 0.05)  # TrackEval's thresholds, to the last bit
_FLOAT_EPS = float(np.finfo("float").eps)


def _zeros() -> Floats:
    return np.zeros(len(ALPHAS))


@dataclass(frozen=True)
class TrackCounts:
    """The sums behind MOTA, IDF1 and HOTA of one or several videos (add them to pool videos)."""

    n_truth: int = 0  # reference detections (GT)
    n_pred: int = 0  # predicted detections
    matches: int = 0  # CLEAR matches
    switches: int = 0
    misses: int = 0
    false_positives: int = 0
    match_iou: float = 0.0  # summed IoU of the CLEAR matches
    idtp: int = 0
    hota_tp: Floats = field(default_factory=_zeros)
    hota_fn: Floats = field(default_factory=_zeros)
    hota_fp: Floats = field(default_factory=_zeros)
    ass_sum: Floats = field(default_factory=_zeros)  # AssA times TP, per alpha
    loc_sum: Floats = field(default_factory=_zeros)  # summed IoU of the HOTA matches, per alpha

    def __add__(self, other: TrackCounts) -> TrackCounts:
        return TrackCounts(
            self.n_truth + other.n_truth, self.n_pred + other.n_pred, self.matches + other.matches,
            self.switches + other.switches, self.misses + other.misses,
            self.false_positives + other.false_positives, self.match_iou + other.match_iou,
            self.idtp + other.idtp, self.hota_tp + other.hota_tp, self.hota_fn + other.hota_fn,
            self.hota_fp + other.hota_fp, self.ass_sum + other.ass_sum, self.loc_sum + other.loc_sum,
        )

    @property
    def empty(self) -> bool:
        return self.n_truth == 0 and self.n_pred == 0

    @property
    def mota(self) -> float:
        if self.empty:
            return 1.0
        if self.n_truth == 0:
            return float("-inf")
        return 1.0 - (self.misses + self.switches + self.false_positives) / self.n_truth

    @property
    def idf1(self) -> float:
        return 1.0 if self.empty else 2 * self.idtp / (self.n_truth + self.n_pred)

    @property
    def idp(self) -> float:
        return 1.0 if self.empty else (self.idtp / self.n_pred if self.n_pred else 0.0)

    @property
    def idr(self) -> float:
        return 1.0 if self.empty else (self.idtp / self.n_truth if self.n_truth else 0.0)

    @property
    def deta(self) -> float:
        return 1.0 if self.empty else float(np.mean(self._deta()))

    @property
    def assa(self) -> float:
        return 1.0 if self.empty else float(np.mean(self._assa()))

    @property
    def hota(self) -> float:
        return 1.0 if self.empty else float(np.mean(np.sqrt(self._deta() * self._assa())))

    @property
    def mean_iou(self) -> float:
        """Mean IoU of the CLEAR matches (MOTP as an overlap); NaN without a match."""
        return self.match_iou / self.matches if self.matches else float("nan")

    def _deta(self) -> Floats:
        return np.asarray(self.hota_tp / np.maximum(1, self.hota_tp + self.hota_fn + self.hota_fp))

    def _assa(self) -> Floats:
        return np.asarray(self.ass_sum / np.maximum(1e-10, self.hota_tp))

    def scores(self) -> dict[str, float]:
        """The headline numbers: MOTA, IDF1 (with IDP, IDR), HOTA (with DetA, AssA), switches, mean IoU."""
        return {
            "mota": self.mota, "idf1": self.idf1, "idp": self.idp, "idr": self.idr, "hota": self.hota,
            "deta": self.deta, "assa": self.assa, "switches": float(self.switches), "mean_iou": self.mean_iou,
        }


@dataclass(frozen=True, eq=False)
class _Pairs:
    """Every (truth detection, predicted detection) pair on the same frame, with its IoU."""

    truth: Codes
    pred: Codes
    iou: Floats


def same_frame_pairs(frame_a: Codes, frame_b: Codes) -> tuple[Codes, Codes]:
    """All index pairs ``(i, j)`` with ``frame_a[i] == frame_b[j]``, ordered by i then j."""
    order = np.argsort(frame_b, kind="stable")
    sorted_b = frame_b[order]
    lo = np.searchsorted(sorted_b, frame_a, "left")
    count = np.searchsorted(sorted_b, frame_a, "right") - lo
    ia = np.repeat(np.arange(len(frame_a), dtype=np.intp), count)
    offset = np.arange(int(count.sum()), dtype=np.intp) - np.repeat(np.cumsum(count) - count, count)
    return ia, np.asarray(order[np.repeat(lo, count) + offset], dtype=np.intp)


def _pairs(truth: FlatTracks, pred: FlatTracks) -> _Pairs:
    ia, ib = same_frame_pairs(truth.det_frame, pred.det_frame)
    iou = paired_box_iou(truth.det_box[ia], pred.det_box[ib]) if len(ia) else np.zeros(0)
    la = np.asarray(truth.labels, dtype=object)[truth.det_track[ia]] if len(ia) else np.zeros(0, dtype=object)
    lb = np.asarray(pred.labels, dtype=object)[pred.det_track[ib]] if len(ib) else np.zeros(0, dtype=object)
    same = np.array([a == b or a is None or b is None for a, b in zip(la, lb, strict=True)], dtype=bool)
    return _Pairs(ia, ib, np.where(same, iou, 0.0) if len(ia) else iou)


def _rank_in_frame(frames: Codes, tracks: Codes) -> tuple[Codes, Codes, Codes]:
    """Detections ordered by (frame, track), the frames present (sorted), and each detection's row
    within its frame."""
    order = np.lexsort((tracks, frames))
    keys, starts = np.unique(frames[order], return_index=True)
    rank = np.empty(len(frames), dtype=np.intp)
    rank[order] = np.arange(len(frames), dtype=np.intp) - np.repeat(starts, np.diff([*starts, len(frames)]))
    return order, keys, rank


@dataclass(frozen=True, eq=False)
class _Frame:
    """One frame: its truth and predicted detections (ordered by track) and their IoU matrix."""

    truth: Codes
    pred: Codes
    iou: Floats


def _frames(truth: FlatTracks, pred: FlatTracks, pairs: _Pairs) -> list[_Frame]:
    """Every frame either set shows, in order, with its dense IoU matrix (built from *pairs* at once)."""
    t_order, t_keys, t_rank = _rank_in_frame(truth.det_frame, truth.det_track)
    p_order, p_keys, p_rank = _rank_in_frame(pred.det_frame, pred.det_track)
    frames = np.union1d(t_keys, p_keys)
    t_bounds = np.searchsorted(truth.det_frame[t_order], np.append(frames, np.iinfo(np.intp).max), "left")
    p_bounds = np.searchsorted(pred.det_frame[p_order], np.append(frames, np.iinfo(np.intp).max), "left")
    pair_frame = truth.det_frame[pairs.truth]
    by_frame = np.argsort(pair_frame, kind="stable")
    pair_bounds = np.searchsorted(pair_frame[by_frame], np.append(frames, np.iinfo(np.intp).max), "left")
    out = []
    for i in range(len(frames)):
        gd, pd_ = t_order[t_bounds[i] : t_bounds[i + 1]], p_order[p_bounds[i] : p_bounds[i + 1]]
        sel = by_frame[pair_bounds[i] : pair_bounds[i + 1]]
        iou = np.zeros((len(gd), len(pd_)))
        iou[t_rank[pairs.truth[sel]], p_rank[pairs.pred[sel]]] = pairs.iou[sel]
        out.append(_Frame(gd, pd_, iou))
    return out


def _assign_max_pairs(dist: Floats) -> tuple[Codes, Codes]:
    """motmetrics' assignment: most valid (finite) pairs, then smallest total distance."""
    valid = np.isfinite(dist)
    if not valid.any():
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    costs = dist.copy()
    if not valid.all():
        c = np.abs(dist[valid]).max() + 1
        costs = np.where(valid, dist, 2 * min(dist.shape) * c + 1)
    rows, cols = linear_sum_assignment(costs)
    keep = valid[rows, cols]
    return rows[keep].astype(np.intp), cols[keep].astype(np.intp)


def _clear(
    truth: FlatTracks, pred: FlatTracks, pairs: _Pairs, max_dist: float
) -> tuple[int, int, int, int, float]:
    """CLEAR MOT counts (matches, switches, misses, false positives, summed IoU of the matches),
    following motmetrics' MOTAccumulator.update frame by frame."""
    last: dict[int, int] = {}  # truth track -> the predicted track it was matched to last
    empty = np.zeros(0, dtype=np.intp)
    matches = switches = misses = fps = 0
    iou_sum = 0.0
    for frame in _frames(truth, pred, pairs):
        gd, pd_ = frame.truth, frame.pred
        oids, hids = truth.det_track[gd], pred.det_track[pd_]
        dist = 1.0 - frame.iou
        dist[dist > max_dist] = np.nan
        o_used = np.zeros(len(gd), dtype=bool)
        h_used = np.zeros(len(pd_), dtype=bool)
        if len(gd) and len(pd_):
            for i, o in enumerate(oids):
                h_prev = last.get(int(o))
                hit = np.flatnonzero(~h_used & (hids == h_prev)) if h_prev is not None else empty
                if len(hit) and np.isfinite(dist[i, hit[0]]):
                    o_used[i] = h_used[hit[0]] = True
                    matches += 1
                    iou_sum += 1.0 - dist[i, hit[0]]
            dist[o_used, :] = np.nan
            dist[:, h_used] = np.nan
            for i, j in zip(*_assign_max_pairs(dist), strict=True):
                o, h = int(oids[i]), int(hids[j])
                if o in last and last[o] != h:
                    switches += 1
                else:
                    matches += 1
                iou_sum += 1.0 - dist[i, j]
                last[o] = h
                o_used[i] = h_used[j] = True
        misses += int((~o_used).sum())
        fps += int((~h_used).sum())
    return matches, switches, misses, fps, iou_sum


def _idtp(truth: FlatTracks, pred: FlatTracks, pairs: _Pairs, max_dist: float) -> int:
    """The most frames matched pairs of tracks overlap at the threshold, one-to-one over the video."""
    ok = (1.0 - pairs.iou) <= max_dist
    if not ok.any():
        return 0
    counts = np.zeros((truth.n_tracks, pred.n_tracks))
    np.add.at(counts, (truth.det_track[pairs.truth[ok]], pred.det_track[pairs.pred[ok]]), 1.0)
    rows, cols = linear_sum_assignment(-counts)
    return int(counts[rows, cols].sum())


def _hota(truth: FlatTracks, pred: FlatTracks, pairs: _Pairs) -> dict[str, Floats]:
    """HOTA's sums per alpha, following TrackEval's HOTA.eval_sequence."""
    out = {k: _zeros() for k in ("hota_tp", "hota_fn", "hota_fp", "ass_sum", "loc_sum")}
    n_gt, n_pr = len(truth.det_frame), len(pred.det_frame)
    if n_pr == 0 or n_gt == 0:
        out["hota_fn"] += n_gt
        out["hota_fp"] += n_pr
        return out
    # Each pair's share of its row and column (TrackEval's per-frame soft IoU between detections),
    # summed per pair of tracks: the potential matches.
    row = np.bincount(pairs.truth, pairs.iou, n_gt)[pairs.truth]
    col = np.bincount(pairs.pred, pairs.iou, n_pr)[pairs.pred]
    denom = row + col - pairs.iou
    mask = denom > 0 + _FLOAT_EPS
    soft = np.zeros(len(pairs.iou))
    soft[mask] = pairs.iou[mask] / denom[mask]
    potential = np.zeros((truth.n_tracks, pred.n_tracks))
    np.add.at(potential, (truth.det_track[pairs.truth], pred.det_track[pairs.pred]), soft)
    gt_count = np.bincount(truth.det_track, minlength=truth.n_tracks).astype(float)[:, None]
    pr_count = np.bincount(pred.det_track, minlength=pred.n_tracks).astype(float)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        alignment = potential / (gt_count + pr_count - potential)
    got_gt: list[Codes] = []
    got_pr: list[Codes] = []
    got_sim: list[Floats] = []
    for frame in _frames(truth, pred, pairs):
        if len(frame.truth) == 0 or len(frame.pred) == 0:
            continue
        gt_ids, pr_ids = truth.det_track[frame.truth], pred.det_track[frame.pred]
        rows, cols = linear_sum_assignment(-(alignment[gt_ids[:, None], pr_ids[None, :]] * frame.iou))
        got_gt.append(gt_ids[rows])
        got_pr.append(pr_ids[cols])
        got_sim.append(frame.iou[rows, cols])
    if not got_gt:  # no frame shows both sets
        out["hota_fn"] += n_gt
        out["hota_fp"] += n_pr
        return out
    m_gt, m_pr, m_sim = np.concatenate(got_gt), np.concatenate(got_pr), np.concatenate(got_sim)
    pair_key = m_gt.astype(np.int64) * pred.n_tracks + m_pr
    for a, alpha in enumerate(ALPHAS):
        ok = m_sim >= alpha - _FLOAT_EPS
        n = int(ok.sum())
        out["hota_tp"][a] = n
        out["hota_fn"][a] = n_gt - n
        out["hota_fp"][a] = n_pr - n
        out["loc_sum"][a] = m_sim[ok].sum()
        matched = np.bincount(pair_key[ok], minlength=truth.n_tracks * pred.n_tracks).astype(float)
        matched = matched.reshape(truth.n_tracks, pred.n_tracks)
        ass = matched / np.maximum(1, gt_count + pr_count - matched)
        out["ass_sum"][a] = np.sum(matched * ass) / np.maximum(1, n) * n
    return out


def track_counts(
    pred: Sequence[Track] | None, truth: Sequence[Track] | None, *, iou_threshold: float = 0.5
) -> TrackCounts:
    """The sums behind MOTA, IDF1 and HOTA of *pred* against *truth* on one video (module docstring);
    *iou_threshold* is the overlap at which CLEAR and identity count a match (HOTA averages over its own
    thresholds)."""
    if not 0 < iou_threshold <= 1:
        raise ValueError("iou_threshold must be in (0, 1]")
    t, p = flatten_tracks(truth, "truth"), flatten_tracks(pred, "pred")
    pairs = _pairs(t, p)
    max_dist = 1.0 - iou_threshold
    matches, switches, misses, fps, iou_sum = _clear(t, p, pairs, max_dist)
    h = _hota(t, p, pairs)
    return TrackCounts(
        n_truth=len(t.det_frame), n_pred=len(p.det_frame), matches=matches, switches=switches, misses=misses,
        false_positives=fps, match_iou=iou_sum, idtp=_idtp(t, p, pairs, max_dist), hota_tp=h["hota_tp"],
        hota_fn=h["hota_fn"], hota_fp=h["hota_fp"], ass_sum=h["ass_sum"], loc_sum=h["loc_sum"],
    )


def track_scores(
    pred: Sequence[Track] | None, truth: Sequence[Track] | None, *, iou_threshold: float = 0.5
) -> dict[str, float]:
    """MOTA, IDF1, HOTA (and their parts) of *pred* against *truth* on one video."""
    return track_counts(pred, truth, iou_threshold=iou_threshold).scores()
