r"""Closed-form posteriors for one item at a time, for updating a consensus as each answer arrives.

One-coin model (Dawid & Skene 1979 with one parameter per worker; Karger, Oh & Shah 2011): worker
:math:`w` gives the true label with probability :math:`s_w` and each of the other :math:`K-1`
labels with probability :math:`(1-s_w)/(K-1)`. With a prior :math:`\pi`, the posterior of an item
whose workers answered :math:`a_w` is

.. math:: P(y=k \mid a) \propto \pi_k \prod_w s_w^{[a_w=k]}
          \left(\frac{1-s_w}{K-1}\right)^{[a_w \neq k]}.

Skills are clipped to :math:`[1/K + \epsilon, 1 - \epsilon]`: a worker at chance level carries no
evidence, and no worker is trusted absolutely.

Gold accuracy bound: with :math:`c` correct of :math:`n` gold answers and a Beta(a, b) prior, the
posterior is Beta(a + c, b + n - c); ``accuracy_upper_bound`` is its ``credibility`` quantile, so
"credibly below t" means the upper bound is below t.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

EPSILON = 0.01


def one_coin_posterior(
    answers: Sequence[int],
    skills: Sequence[float],
    n_classes: int,
    *,
    prior: Sequence[float] | None = None,
) -> np.ndarray:
    """Posterior over ``n_classes`` labels of one item; ``answers`` are label indices, one per worker.

    Plain floats rather than numpy: it runs once per submitted answer, on a handful of values,
    where numpy's per-call overhead was most of the cost (a tenth of a millisecond a call)."""
    if n_classes < 2:
        raise ValueError("n_classes must be >= 2")
    if len(answers) != len(skills):
        raise ValueError("answers and skills differ in length")
    log_p = ([-math.log(n_classes)] * n_classes if prior is None
             else [math.log(p) if p > 0 else -math.inf for p in prior])
    if len(log_p) != n_classes:
        raise ValueError("the prior has a probability per label")
    low, high = 1.0 / n_classes + EPSILON, 1.0 - EPSILON
    # Each worker's "not this label" term is the same for every label, so it cancels in the
    # normalisation: only the answered label's ratio log(s) - log((1-s)/(K-1)) is added.
    for a, skill in zip(answers, skills, strict=True):
        if not 0 <= a < n_classes:
            raise ValueError("an answer is outside 0..n_classes-1")
        s = min(max(float(skill), low), high)
        log_p[a] += math.log(s) - math.log((1.0 - s) / (n_classes - 1))
    top = max(log_p)
    p = [math.exp(v - top) for v in log_p]
    total = sum(p)
    return np.array([v / total for v in p], dtype=np.float64)


def accuracy_upper_bound(
    correct: int, answered: int, *, credibility: float = 0.95, prior: tuple[float, float] = (1.0, 1.0)
) -> float:
    """The ``credibility`` quantile of the Beta posterior of a worker's accuracy on gold."""
    if not 0 <= correct <= answered:
        raise ValueError("need 0 <= correct <= answered")
    a, b = prior
    return float(stats.beta.ppf(credibility, a + correct, b + answered - correct))


def accuracy_interval(
    correct: int, answered: int, *, credibility: float = 0.95, prior: tuple[float, float] = (1.0, 1.0)
) -> tuple[float, float, float]:
    """(posterior mean, lower, upper) of the accuracy, an equal-tailed credible interval."""
    a, b = prior[0] + correct, prior[1] + answered - correct
    tail = (1.0 - credibility) / 2
    return float(a / (a + b)), float(stats.beta.ppf(tail, a, b)), float(stats.beta.ppf(1 - tail, a, b))
