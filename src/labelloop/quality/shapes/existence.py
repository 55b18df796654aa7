r"""Which clusters of boxes are real objects: annotator recall and false-positive rates learned by EM.

Every cluster :math:`c` on task :math:`t` (see :mod:`.matching`) is an item; every annotator
:math:`w \in W_t` who answered the task (an empty answer included) either drew a box in it
(:math:`y_{cw} = 1`) or did not (:math:`y_{cw} = 0`). The cluster has a hidden class
:math:`z_c \in \{0, 1, \dots, K-1\}`: 0 is *spurious* (no object: a false positive, or a stray
duplicate box), :math:`1 \dots K-1` are real objects of increasing ease of being seen. Given the class,
annotators draw independently:

.. math:: P(y_{c\cdot} \mid z_c = k) \propto \prod_{w \in W_t} p_{wk}^{\,y_{cw}} (1 - p_{wk})^{1 - y_{cw}},

where :math:`p_{wk}` is annotator w's **recall** on real objects of level :math:`k \ge 1` and their
**false-positive rate** for :math:`k = 0`. This is Dawid & Skene's latent-class model (Dawid & Skene,
JRSS C 28(1), 1979) with a binary answer per (cluster, annotator), as used for boxes by Branson, Van Horn
& Perona ("Lean Crowdsourcing", CVPR 2017: per-annotator probabilities of a missed box and of a false
one). Two refinements over the textbook model:

- *Difficulty levels* (:math:`K-1` real classes, default 2): small or occluded objects are missed by
  many annotators. With one real class, EM makes "real" mean "drawn by nearly everyone" and rejects
  objects most but not all annotators saw; a hard and an easy level let the real class cover both.
  A level is a difficulty shared by everyone, not a free rate per annotator:
  :math:`\operatorname{logit} p_{wk} = \theta_w - \delta_k` (each annotator one skill
  :math:`\theta_w`, each level one difficulty :math:`\delta_k`, the easiest at 0), the
  ability-difficulty form of Rasch's model and of GLAD (Whitehill et al., NIPS 2009). With free rates
  a "real" level can instead become "the boxes only one spammer draws" (a class whose rate is high for
  that spammer and nil for everyone else fits a spammer's strays as well as the spurious class does);
  with a shared difficulty, a level that careful annotators miss is missed by the spammer too.
- *Truncation*: a cluster exists only if someone drew it, so the likelihood is conditioned on
  :math:`\sum_w y_{cw} \ge 1`, dividing by :math:`1 - P_{0tk}` with
  :math:`P_{0tk} = \prod_{w \in W_t} (1 - p_{wk})`. Without it the false-positive rate of a crowd whose
  false boxes are singletons would be estimated near :math:`1/|W_t|` instead of near 0.

EM. E-step: :math:`q_{ck} \propto \pi_k P(y_{c\cdot} \mid k) / (1 - P_{0tk})`. M-step (the truncation
handled as missing data: each observed cluster of class k stands for :math:`P_{0tk}/(1 - P_{0tk})`
unseen ones that nobody drew):

.. math:: p_{wk} = \frac{\sum_{c \ni w} q_{ck} + \lambda \bar p_k}
                        {\sum_{t \in T_w} Q_{tk} / (1 - P_{0tk}) + \lambda},\qquad
          Q_{tk} = \sum_{c \in t} q_{ck},\qquad
          \pi_k \propto 1 + \sum_c q_{ck},

with :math:`\bar p_k` the crowd's pooled rate (empirical-Bayes shrinkage: an annotator with few
answers looks like the average annotator; :math:`\lambda` = ``shrinkage`` pseudo-answers). EM starts
from each cluster's share of votes :math:`s_c = \sum_w y_{cw} / |W_t|`: class k gets weight
:math:`\theta_k^{\,v}(1-\theta_k)^{n-v}` with :math:`\theta_k` evenly spaced in [0.05, 0.95].
EM's steps are accelerated by SQUAREM (Varadhan & Roland, Scand. J. Stat. 35(2), 2008): the EM
converges slowly here (the spurious and the hard class trade clusters along a flat ridge), and plain
EM stopped early lands wherever it stopped. Every step is a product with a sparse incidence matrix
(who answered which task, who drew in which cluster), never a loop over (cluster, annotator) pairs.

*Optional size effect* (``size`` given; off by default): the class prior becomes a multinomial
logistic function of the cluster's size :math:`x_c` (the mean log square root of its boxes' areas,
robustly standardised: minus the median, over 1.4826 MAD),
:math:`\pi_{ck} \propto \pi_k e^{b_k x_c}`, :math:`b_0 = 0`: small objects are the ones most
annotators miss, so among clusters few annotators drew, how likely "hard but real" is against
"spurious" may depend on size, and so may how often stray boxes are small. Its M-step is one Newton
step of the weighted logistic regression of :math:`q_{ck}` on :math:`[1, x_c]` (a generalised EM
step), with the plain prior's pseudo-count as one pseudo-cluster per class at :math:`x = 0` and a
normal prior of sd ``SIZE_SLOPE_SD`` on the slopes; with :math:`b = 0` it is the plain model. It
helps when stray boxes differ in size from the hard objects (a simulated crowd with large strays:
most small objects recovered) and hurts when they look alike (small strays); on Branson's
pedestrians it moves F1 by one box, so it stays off (docs/quality.md, "Shapes"). Putting the size in
the recall instead, :math:`\operatorname{logit} p_{wkc} = \theta_w - \delta_k + \beta x_c`, fails
under the truncation: recall can fall to nearly 0 for small clusters, where being drawn by one
annotator is then as likely for a real object as for a false box, and the real levels swallow the
spurious class (on Branson its prior fell to 0.002 and F1@0.5 to 0.864).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from labelloop.quality.shapes._input import Codes, Floats

_EPS = 1e-9
SPURIOUS_PRIOR = 0.05  # where the false-box rates start, and the prior mean they are shrunk towards
SIZE_SLOPE_SD = 1.0  # prior sd of the class prior's slopes on the standardised log size


@dataclass(frozen=True)
class ExistenceFit:
    """The fitted model: P(real) per cluster, rates ``[worker, class]``, class prior, iterations."""

    real: Floats
    rates: Floats
    prior: Floats
    n_iter: int
    size_slope: Floats | None = None  # the class prior's slope per class on the standardised size


def _log_rates(rates: Floats) -> tuple[Floats, Floats]:
    clipped = np.clip(rates, _EPS, 1 - _EPS)
    return np.log1p(-clipped), np.log(clipped) - np.log1p(-clipped)


@dataclass(frozen=True, eq=False)
class _Design:
    """Sparse incidence matrices: who answered each task, who drew in each cluster, each cluster's task."""

    answered: sp.csr_matrix  # tasks x workers
    answered_t: sp.csr_matrix
    drew: sp.csr_matrix  # clusters x workers
    drew_t: sp.csr_matrix
    in_task: sp.csr_matrix  # tasks x clusters
    cl_task: Codes
    size: Floats | None = None  # the standardised size per cluster (None: a prior free of size)

    @classmethod
    def build(
        cls, cl_task: Codes, box_cluster: Codes, box_worker: Codes, answer_task: Codes, answer_worker: Codes,
        n_tasks: int, n_workers: int, size: Floats | None = None,
    ) -> _Design:
        m = len(cl_task)
        answered = sp.csr_matrix(
            (np.ones(len(answer_task)), (answer_task, answer_worker)), shape=(n_tasks, n_workers)
        )
        drew = sp.csr_matrix((np.ones(len(box_cluster)), (box_cluster, box_worker)), shape=(m, n_workers))
        in_task = sp.csr_matrix((np.ones(m), (cl_task, np.arange(m))), shape=(n_tasks, m))
        covariate = None if size is None else np.asarray(size, dtype=np.float64)
        return cls(answered, answered.T.tocsr(), drew, drew.T.tocsr(), in_task, cl_task, covariate)


def fit_existence(
    *,
    cl_task: Codes,
    box_cluster: Codes,
    box_worker: Codes,
    answer_task: Codes,
    answer_worker: Codes,
    n_tasks: int,
    n_workers: int,
    levels: int,
    shrinkage: float,
    n_iter: int,
    tol: float,
    size: Floats | None = None,
) -> ExistenceFit:
    """EM for the model of the module docstring; classes: 0 spurious, 1..levels real.

    *size* (one value per cluster, e.g. the log of its boxes' size; None: no size effect) makes the
    class prior a multinomial logistic function of the robustly standardised size.
    Stops when the log-likelihood per cluster improves by less than *tol*.
    """
    k = levels + 1
    m = len(cl_task)
    if m == 0:
        return ExistenceFit(np.zeros(0), np.zeros((n_workers, k)), np.full(k, 1.0 / k), 0)
    covariate = None if size is None else standardise(size)
    if covariate is not None and not covariate.any():
        covariate = None  # sizes that do not vary carry nothing: the plain model, exactly
    design = _Design.build(
        cl_task, box_cluster, box_worker, answer_task, answer_worker, n_tasks, n_workers, covariate
    )
    votes = np.bincount(box_cluster, minlength=m).astype(np.float64)
    voters = np.bincount(answer_task, minlength=n_tasks).astype(np.float64)[cl_task]
    theta = np.linspace(0.05, 0.95, k)
    logits = votes[:, None] * np.log(theta) + (voters - votes)[:, None] * np.log1p(-theta)
    q = np.exp(logits - logits.max(axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)
    rates = np.tile(theta, (n_workers, 1))
    state = _EMState(*_m_step(q, rates, design, shrinkage, None))
    history: list[float] = []
    while 3 * len(history) < n_iter:
        state, loglik = _squarem_cycle(state, design, shrinkage)
        history.append(loglik / m)
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            break
    q, _, none_drew = _e_step(state.rates, state.prior, design, state.slope)
    state = _EMState(*_m_step(q, state.rates, design, shrinkage, none_drew, state.slope, state.prior))
    q, _, _ = _e_step(state.rates, state.prior, design, state.slope)
    rates, prior = state.rates, state.prior
    if design.size is not None and state.slope is not None:  # report the prior averaged over clusters
        prior = np.exp(_log_class_prior(prior, state.slope, design.size)).mean(axis=0)
    # The spurious class is the one annotators join least (EM keeps the starting order in practice).
    spurious = int(np.argmin(rates.mean(axis=0)))
    real = 1.0 - q[:, spurious]
    order = [spurious] + [j for j in range(k) if j != spurious]
    if spurious != 0:
        rates, prior = rates[:, order], prior[order]
    slope = None if state.slope is None else state.slope[order] - state.slope[spurious]
    return ExistenceFit(real, rates, prior, 3 * len(history) + 1, slope)


def standardise(size: Floats) -> Floats:
    """``(x - median) / (1.4826 MAD)``: a robust z-score (0 everywhere when the sizes do not vary)."""
    x = np.asarray(size, dtype=np.float64)
    centre = float(np.median(x))
    spread = 1.4826 * float(np.median(np.abs(x - centre)))
    if not spread > 1e-12:
        spread = float(np.std(x))
    return (x - centre) / spread if spread > 1e-12 else np.zeros_like(x)


@dataclass(frozen=True)
class _EMState:
    """Parameters: each annotator's rate per class, the class prior (at size 0 with a size effect), and
    the prior's slope per class on the size (``slope[0] = 0``; None without a size effect)."""

    rates: Floats
    prior: Floats
    slope: Floats | None = None


def _em_map(state: _EMState, design: _Design, shrinkage: float) -> tuple[_EMState, float]:
    """One EM step from *state*, and the log-likelihood of *state* (which its E-step yields)."""
    q, loglik, none_drew = _e_step(state.rates, state.prior, design, state.slope)
    new = _m_step(q, state.rates, design, shrinkage, none_drew, state.slope, state.prior)
    return _EMState(*new), loglik


def _to_free(state: _EMState) -> Floats:
    """The parameters without bounds (logits of the rates, logs of the prior, the slopes): where SQUAREM
    extrapolates."""
    r = np.clip(state.rates, _EPS, 1 - _EPS)
    parts = [(np.log(r) - np.log1p(-r)).ravel(), np.log(state.prior)]
    if state.slope is not None:
        parts.append(state.slope)
    return np.concatenate(parts)


def _from_free(x: Floats, like: _EMState) -> _EMState:
    n, k = like.rates.size, like.prior.size
    rates = 1.0 / (1.0 + np.exp(-np.clip(x[:n], -30, 30)))
    log_prior = x[n : n + k]
    prior = np.maximum(np.exp(log_prior - log_prior.max()), _EPS)
    slope = None
    if like.slope is not None:
        slope = np.clip(x[n + k : n + 2 * k], -10, 10)
        slope[0] = 0.0
    return _EMState(np.clip(rates.reshape(like.rates.shape), _EPS, 1 - _EPS), prior / prior.sum(), slope)


def _squarem_cycle(state: _EMState, design: _Design, shrinkage: float) -> tuple[_EMState, float]:
    """One SQUAREM cycle (Varadhan & Roland, Scand. J. Stat. 35(2), 2008, scheme S3), three EM steps.

    Two EM steps give the step r and its change v; the parameters jump to x0 - 2a r + a^2 v with
    a = min(-1, -|r|/|v|), in the unbounded logit/log parametrisation, and one more EM step from
    there stabilises the jump. When the jump is worse than the first EM step, the plain second step is
    kept instead. Returns the new state and the log-likelihood of the last one evaluated.
    """
    first, _ = _em_map(state, design, shrinkage)
    second, ll_first = _em_map(first, design, shrinkage)
    x0, x1, x2 = _to_free(state), _to_free(first), _to_free(second)
    r, v = x1 - x0, x2 - 2 * x1 + x0
    norm_v = float(np.linalg.norm(v))
    alpha = min(-1.0, -float(np.linalg.norm(r)) / norm_v) if norm_v > 1e-12 else -1.0
    jump = _from_free(x0 - 2 * alpha * r + alpha**2 * v, state) if norm_v > 1e-12 else second
    stabilised, ll_jump = _em_map(jump, design, shrinkage)
    if ll_jump >= ll_first:
        return stabilised, ll_jump
    return second, ll_first


def _prior_columns(prior: Floats, slope: Floats, size: Floats) -> tuple[list[Floats], Floats]:
    """``log(prior_k) + slope_k size_c`` per class k (one contiguous column each: numpy is several times
    slower along a short inner axis), and their log-sum-exp per cluster."""
    columns = [np.log(prior[j]) + slope[j] * size for j in range(len(prior))]
    top = reduce(np.maximum, columns)
    total = reduce(np.add, [np.exp(c - top) for c in columns])
    return columns, top + np.log(total)


def _log_class_prior(prior: Floats, slope: Floats, size: Floats) -> Floats:
    """``log pi[c, k]`` with ``pi[c, k]`` proportional to ``prior_k exp(slope_k size_c)``."""
    columns, norm = _prior_columns(prior, slope, size)
    return np.stack([c - norm for c in columns], axis=1)


def _fit_size_prior(q: Floats, size: Floats, prior: Floats, slope: Floats | None) -> tuple[Floats, Floats]:
    r"""The M-step of a size-dependent class prior: one Newton step of the multinomial logistic
    regression of the posteriors *q* on ``[1, size]`` (class 0 the reference) from the current
    coefficients (a generalised M-step; at EM's fixed point the step is nil, so the fixed point is the
    maximum-likelihood fit).

    The pseudo-count of the plain prior (one cluster per class) becomes one pseudo-cluster per class at
    size 0, and the slopes get a normal prior of sd ``SIZE_SLOPE_SD`` = 1 (one robust sd of log size
    multiplying a class's odds by e is already a strong effect); with every size 0 the slopes stay 0
    and the fixed point is the plain prior's M-step, ``(Q_k + 1) / (m + K)``.
    """
    k = q.shape[1]
    b = np.zeros(k) if slope is None else slope
    a = np.log(prior[1:] / prior[0])
    columns, norm = _prior_columns(prior, b, size)
    pi = [np.exp(c - norm) for c in columns[1:]]
    target = np.ascontiguousarray(q[:, 1:].T)  # (K-1, m)
    resid = [target[j] - pi[j] for j in range(k - 1)]
    pseudo = 1.0 - k * prior[1:]  # the k pseudo-clusters at size 0: one of each class, predicted `prior`

    def dot(u: Floats, v: Floats) -> float:  # einsum: BLAS's dot is far slower on busy shared cores
        return float(np.einsum("i,i->", u, v))

    ridge = 1.0 / SIZE_SLOPE_SD**2
    grad = np.concatenate([[r.sum() for r in resid] + pseudo, [dot(r, size) for r in resid] - ridge * b[1:]])
    blocks = []
    for f in (np.ones_like(size), size, size * size):
        fp = [f * p for p in pi]
        blocks.append(np.array([[(fp[i].sum() if i == j else 0.0) - dot(fp[i], pi[j]) for j in range(k - 1)]
                                for i in range(k - 1)]))
    h_pseudo = k * (np.diag(prior[1:]) - np.outer(prior[1:], prior[1:]))
    hess = np.block([[blocks[0] + h_pseudo, blocks[1]], [blocks[1], blocks[2] + ridge * np.eye(k - 1)]])
    step = np.linalg.solve(hess, grad)
    new_slope = np.concatenate([[0.0], np.clip(b[1:] + step[k - 1 :], -10, 10)])
    return _prior_from(a + step[: k - 1]), new_slope


def _prior_from(a: Floats) -> Floats:
    """The softmax of ``[0, a]``."""
    z = np.concatenate([[0.0], a])
    e = np.exp(z - z.max())
    return np.asarray(e / e.sum(), dtype=np.float64)


def _m_step(
    q: Floats, rates: Floats, design: _Design, shrinkage: float, none_drew: Floats | None,
    slope: Floats | None = None, prior: Floats | None = None,
) -> tuple[Floats, Floats, Floats | None]:
    """New rates, prior and (with a size effect) prior slopes; *none_drew* (P0[t, k] under *rates*) is
    reused from the E-step when given; *prior* and *slope*, the current ones, start the prior's Newton
    step (with a size effect)."""
    k = q.shape[1]
    if none_drew is None:
        log_miss, _ = _log_rates(rates)
        none_drew = np.exp(np.asarray(design.answered @ log_miss))
    per_task = np.asarray(design.in_task @ q)  # Q[t, k]
    exposure_t = per_task / np.maximum(1.0 - none_drew, _EPS)
    drawn = np.asarray(design.drew_t @ q)  # [w, k]
    exposure = np.asarray(design.answered_t @ exposure_t)  # [w, k]
    pooled = drawn.sum(axis=0) / np.maximum(exposure.sum(axis=0), _EPS)
    # False boxes are drawn rarely, whatever this crowd's pooled rate says: pooled towards a fixed
    # low rate, the spurious class cannot take over clusters that everyone drew (when every cluster
    # looks alike, the likelihood alone cannot tell that class from a real one).
    pooled[0] = min(pooled[0], SPURIOUS_PRIOR)
    new_rates = (drawn + shrinkage * pooled) / np.maximum(exposure + shrinkage, _EPS)
    if k > 2:
        new_rates[:, 1:] = _shifted_recall(drawn[:, 1:], exposure[:, 1:], rates[:, 1:], shrinkage)
    plain = (q.sum(axis=0) + 1.0) / (len(q) + k)
    if design.size is not None:
        new_prior, new_slope = _fit_size_prior(q, design.size, plain if prior is None else prior, slope)
        return np.clip(new_rates, _EPS, 1 - _EPS), new_prior, new_slope
    return np.clip(new_rates, _EPS, 1 - _EPS), plain, None


def _logit(p: Floats) -> Floats:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p) - np.log1p(-p), dtype=np.float64)


def _shifted_recall(drawn: Floats, exposure: Floats, current: Floats, shrinkage: float) -> Floats:
    """Recall on the real levels (easiest last) under ``logit p_wk = theta_w - delta_k``, ``delta`` of
    the easiest level 0: the binomial likelihood of the expected draws and exposures (with the
    shrinkage's pseudo-answers at the pooled rate), raised by Newton steps on theta and delta in turn
    from the current rates (a generalised M-step: EM's likelihood still never falls)."""
    pooled = drawn.sum(axis=0) / np.maximum(exposure.sum(axis=0), _EPS)
    hits = drawn + shrinkage * pooled
    shown = exposure + shrinkage
    logits = _logit(current)
    theta = logits[:, -1].copy()
    delta = np.mean(logits[:, -1:] - logits, axis=0)
    delta[-1] = 0.0
    for _ in range(3):
        p = expit(theta[:, None] - delta[None, :])
        step = (hits - shown * p).sum(axis=1) / np.maximum((shown * p * (1 - p)).sum(axis=1), _EPS)
        theta = np.clip(theta + step, -30, 30)
        p = expit(theta[:, None] - delta[None, :])
        delta -= (hits - shown * p).sum(axis=0) / np.maximum((shown * p * (1 - p)).sum(axis=0), _EPS)
        delta[-1] = 0.0
    return np.asarray(expit(theta[:, None] - delta[None, :]), dtype=np.float64)


def _e_step(
    rates: Floats, prior: Floats, design: _Design, slope: Floats | None = None
) -> tuple[Floats, float, Floats]:
    """Posteriors ``q[c, k]``, the log-likelihood of the observed clusters, and P0[t, k]."""
    log_miss, log_odds = _log_rates(rates)
    all_miss = np.asarray(design.answered @ log_miss)  # log P0[t, k]
    drew = np.asarray(design.drew @ log_odds)  # [c, k]
    seen = np.log(np.maximum(-np.expm1(all_miss), _EPS))  # log(1 - P0): the truncation
    if design.size is not None and slope is not None:
        logits = _log_class_prior(prior, slope, design.size) + (all_miss - seen)[design.cl_task] + drew
    else:
        logits = np.log(prior)[None, :] + (all_miss - seen)[design.cl_task] + drew
    # Row-wise max and sum over the K columns as K-1 elementwise steps and a matrix-vector product:
    # numpy's reductions along a short inner axis are several times slower on millions of rows.
    top = reduce(np.maximum, logits.T)
    expd = np.exp(logits - top[:, None])
    total = expd @ np.ones(expd.shape[1])
    loglik = float(np.log(total).sum() + top.sum())
    return np.asarray(expd / total[:, None], dtype=np.float64), loglik, np.exp(all_miss)
