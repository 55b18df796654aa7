r"""HMM-Crowd: a hidden BIO tag sequence per text, read through each annotator's confusion matrices.

Model (Nguyen, Wallace, Li, Nenkova & Lease 2017, without their word features). The tokens of task
:math:`d` carry hidden tags :math:`h_1 \dots h_n` that form a Markov chain, :math:`h_1 \sim
\mathrm{Cat}(\pi)`, :math:`h_i \mid h_{i-1} \sim \mathrm{Cat}(A_{h_{i-1}})`; annotator :math:`w` who
answered the task tags token :math:`i` with :math:`y_{iw} \sim \mathrm{Cat}(C^w_{c_{iw},\,h_i})`,
independently across annotators given the hidden tags. With ``worker_model="confusion"`` there is one
context, :math:`c_{iw} = 0`: Dawid & Skene's confusion matrix, as in HMM-Crowd. With
``worker_model="sequential"`` (the default) the context is the annotator's *own previous tag*,
:math:`c_{iw} = y_{i-1,w}` (``O`` at a text's start): Simpson & Gurevych's "seq" annotator model. It
matters because annotators err by whole spans: one who missed the ``B`` of a name says ``O`` on its
``I`` too, and one who marked the name rarely stops in its middle. A single confusion matrix sees
those as independent token errors; it then learns that ``O`` is weak evidence against ``I`` (misses
make :math:`C_{I,O}` large) and, once the transitions make ``I`` likely after ``B``, stretches spans
over the next word (on CoNLL MTurk it costs 5 points of entity F1: docs/quality.md). The emission of
a token is :math:`e_i(k) = \prod_{w} C^w_{c_{iw},\,k\,y_{iw}}` over the annotators of its task.

EM (Baum-Welch): the E-step runs forward-backward on every task at once (:mod:`.chains`) for the
posteriors :math:`\gamma_i(k)` and expected transitions :math:`\xi_{kl}`; the M-step sets, as MAP
estimates under Dirichlet priors,

.. math:: C^w_{c,kl} \propto \alpha + \lambda\,\bar C_{kl} + \sum_{i:\,c_{iw}=c,\,y_{iw}=l}\gamma_i(k),
          \qquad A_{kl} \propto \frac{\tau}{|\mathcal{A}_k|} + \xi_{kl},
          \qquad \pi_k \propto \frac{\tau}{|\mathcal{A}_0|} + \sum_d \gamma_{d,1}(k),

where, with the confusion model, :math:`\bar C` is the crowd's pooled confusion matrix (empirical
Bayes, as in :class:`~labelloop.quality.DawidSkene`: an annotator with few answers looks like the
crowd). With the sequential model an annotator has :math:`K` times as many cells to learn, so the
prior has two means of weight :math:`\lambda` each: the crowd's matrix in that context (an annotator
rarely seen in a context behaves there like the others) and the annotator's own matrix over all
contexts (their general care carries over); each is shrunk by :math:`\lambda` towards the crowd's
matrix over all contexts, so that a context nobody reaches is not uniform.
:math:`\mathcal{A}_k` is the set of tags allowed after :math:`k` (:math:`\mathcal{A}_0`: at a text's
start). Options: ``smoothing`` :math:`\alpha`, ``shrinkage`` :math:`\lambda`,
``transition_smoothing`` :math:`\tau` (a row's total pseudo-count).

With ``constrained=True`` the BIO grammar is built in: :math:`A_{kl} = 0` when :math:`l` is ``I-y``
and :math:`k` is neither ``B-y`` nor ``I-y``, and no text starts inside a span; the decoded tags are
then always a valid sequence. EM is local, so where it starts matters: by default from the token
Dawid-Skene posteriors (``init="dawid_skene"``), which already discount unreliable annotators, rather
than from the token majority vote's shares (``init="majority"``), where a spammer's tags count as
much as anyone's. The answer is the Viterbi path (``decode="viterbi"``, the most probable tag
*sequence*, so spans come out whole) or each token's most probable tag (``decode="posterior"``).

What the sequence adds to a token-wise weighted vote: the transitions carry evidence along the text (a
token most annotators put at the start of a span makes ``I`` likely next, so one dissenting ``O`` in
the middle of a long name does not cut it in two), and a boundary habit (tagging ``I`` for ``B``,
leaving out the first word) is a column of the annotator's matrices rather than noise.

References: A. T. Nguyen, B. C. Wallace, J. J. Li, A. Nenkova & M. Lease, "Aggregating and Predicting
Sequence Labels from Crowd Annotations", ACL 2017; E. Simpson & I. Gurevych, "A Bayesian Approach for
Sequence Tagging with Crowds", EMNLP 2019 (the sequential annotator model); A. P. Dawid & A. M. Skene,
*JRSS C* 28(1), 1979; L. R. Rabiner, *Proc. IEEE* 77(2), 1989.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from labelloop.quality.spans._input import Codes, Floats
from labelloop.quality.spans.base import SpanAggregator, shares, vote_counts
from labelloop.quality.spans.chains import Chains
from labelloop.quality.spans.tags import EncodedTags
from labelloop.quality.spans.vote import TokenDawidSkene, confusion_frame, entity_skill

Init = Literal["majority", "dawid_skene"]
WorkerModel = Literal["confusion", "sequential"]
Decode = Literal["viterbi", "posterior"]
_FLOOR = 1e-12


def _normalise(values: Floats, *, axis: int) -> Floats:
    return np.asarray(values / np.maximum(values.sum(axis=axis, keepdims=True), _FLOOR), dtype=np.float64)


def bio_allowed(n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Which transitions ``[from, to]`` and which first tags the BIO grammar allows."""
    k = 1 + 2 * n_labels
    allowed = np.ones((k, k), dtype=bool)
    for lab in range(n_labels):
        inside = 2 + 2 * lab
        allowed[:, inside] = False
        allowed[[inside - 1, inside], inside] = True  # I-x only after B-x or I-x
    start = np.ones(k, dtype=bool)
    start[2::2] = False
    return allowed, start


class HMMCrowd(SpanAggregator):
    """Hidden Markov model of the true tags with per-annotator confusion matrices (module docstring).

    Options (keyword-only): ``smoothing`` pseudo-count in every confusion cell; ``shrinkage``
    pseudo-answers per row drawn towards the pooled confusion matrix; ``transition_smoothing``
    pseudo-count per row of transitions (and for the first tag), spread over the allowed tags;
    ``constrained`` the BIO grammar; ``init`` ``"majority"`` or ``"dawid_skene"``; ``decode``
    ``"viterbi"`` or ``"posterior"``; ``worker_model`` ``"sequential"`` (a confusion matrix per own
    previous tag) or ``"confusion"``; ``n_iter`` EM iterations at most, stopping early when the MAP
    objective per token improves by less than ``tol``.

    Learned: ``spans_``, ``token_tags_`` (confidence = the chosen tag's posterior), ``confusions_``
    (DataFrame indexed by (worker, true_tag), columns the answered tag; with the sequential model,
    pooled over the contexts), ``transitions_`` (DataFrame from-tag x to-tag), ``initial_`` (Series
    tag -> P(first tag)), ``priors_`` (Series tag -> share of tokens), ``skills_`` (P(right tag | in
    an entity)), ``n_iter_``, ``objective_history_``.
    """

    confusions_: pd.DataFrame
    transitions_: pd.DataFrame
    initial_: pd.Series
    priors_: pd.Series
    skills_: pd.Series
    n_iter_: int
    objective_history_: list[float]

    def __init__(
        self,
        *,
        smoothing: float = 0.3,
        shrinkage: float = 2.0,
        transition_smoothing: float = 1.0,
        constrained: bool = True,
        init: Init = "dawid_skene",
        decode: Decode = "viterbi",
        worker_model: WorkerModel = "sequential",
        n_iter: int = 50,
        tol: float = 1e-6,
    ) -> None:
        if min(smoothing, shrinkage, transition_smoothing) < 0:
            raise ValueError("smoothing, shrinkage and transition_smoothing must be >= 0")
        if init not in ("majority", "dawid_skene"):
            raise ValueError(f"init must be 'majority' or 'dawid_skene', got {init!r}")
        if decode not in ("viterbi", "posterior"):
            raise ValueError(f"decode must be 'viterbi' or 'posterior', got {decode!r}")
        if worker_model not in ("confusion", "sequential"):
            raise ValueError(f"worker_model must be 'confusion' or 'sequential', got {worker_model!r}")
        if n_iter < 0 or tol < 0:
            raise ValueError("n_iter and tol must be >= 0")
        self.smoothing = smoothing
        self.shrinkage = shrinkage
        self.transition_smoothing = transition_smoothing
        self.constrained = constrained
        self.init = init
        self.decode = decode
        self.worker_model = worker_model
        self.n_iter = n_iter
        self.tol = tol

    def _confusions(self, counts: Floats) -> tuple[Floats, Floats]:
        """Emissions ``[w, context, answered l, true k]`` from soft counts of that shape, and the
        pseudo-counts used (see the module docstring: two prior means of ``shrinkage`` each)."""
        pseudo = np.full((1, *counts.shape[1:]), self.smoothing)
        if self.shrinkage > 0:
            overall = _normalise(counts.sum(axis=(0, 1)), axis=0)
            crowd = _normalise(counts.sum(axis=0) + self.shrinkage * overall[None], axis=1)
            pseudo = pseudo + self.shrinkage * crowd[None]
            if counts.shape[1] > 1:
                own = _normalise(counts.sum(axis=1, keepdims=True) + self.shrinkage * overall, axis=2)
                pseudo = pseudo + self.shrinkage * own
        emission = counts + pseudo
        return _normalise(emission, axis=2), pseudo

    def _markov(
        self, first: Floats, xi: Floats, allowed: np.ndarray, start_ok: np.ndarray
    ) -> tuple[Floats, Floats]:
        # The pseudo-count is spread over a row's allowed cells: with few texts, a row seen a few
        # times must not be pulled to uniform (it would make every span likely to stop or go on).
        trans = np.where(allowed, xi + self._per_cell(allowed), 0.0)
        trans /= np.maximum(trans.sum(axis=1, keepdims=True), _FLOOR)
        start = np.where(start_ok, first + self._per_cell(start_ok), 0.0)
        return trans, start / max(float(start.sum()), _FLOOR)

    def _per_cell(self, allowed: np.ndarray) -> Floats:
        return np.asarray(self.transition_smoothing / allowed.sum(axis=-1, keepdims=True), dtype=np.float64)

    def _fit_tags(self, enc: EncodedTags) -> tuple[Floats, Codes]:
        k, n_w = enc.n_tags, enc.answers.n_workers
        allowed, start_ok = bio_allowed(len(enc.answers.labels))
        if not self.constrained:
            allowed, start_ok = np.ones_like(allowed), np.ones_like(start_ok)
        context = self._contexts(enc)
        n_ctx = k if self.worker_model == "sequential" else 1
        shape = (n_w, n_ctx, k, k)
        answered = sp.csr_matrix(
            (
                np.ones(len(enc.cell_token)),
                (enc.cell_token, (enc.cell_worker * n_ctx + context) * k + enc.cell_tag),
            ),
            shape=(enc.n_tokens, n_w * n_ctx * k),
        )
        answered_t = answered.T.tocsr()
        chains = Chains(enc.task_tok)
        gamma = self._start(enc)
        # Transitions to start from: consecutive tokens' posteriors, as if they were independent.
        xi = gamma[chains.order[chains.prev_rows]].T @ gamma[chains.order[chains.next_rows]]
        first = gamma[chains.order[chains.is_first]].sum(axis=0)
        history: list[float] = []
        for _ in range(self.n_iter):
            emission, pseudo = self._confusions(np.asarray(answered_t @ gamma).reshape(shape))
            trans, start = self._markov(first, xi, allowed, start_ok)
            log_c = np.log(np.maximum(emission, _FLOOR))
            log_e = np.asarray(answered @ log_c.reshape(-1, k))
            gamma, first, xi, log_lik = chains.forward_backward(log_e, start, trans)
            with np.errstate(divide="ignore"):
                log_t, log_s = np.log(trans), np.log(start)
            objective = log_lik + float((pseudo * log_c).sum())
            objective += float((self._per_cell(allowed) * np.where(allowed, log_t, 0.0)).sum())
            objective += float((self._per_cell(start_ok) * np.where(start_ok, log_s, 0.0)).sum())
            history.append(objective / max(enc.n_tokens, 1))
            if len(history) > 1 and history[-1] - history[-2] < self.tol:
                break
        counts = np.asarray(answered_t @ gamma).reshape(shape)
        emission, _ = self._confusions(counts)
        trans, start = self._markov(first, xi, allowed, start_ok)
        if self.decode == "viterbi":
            log_e = np.asarray(answered @ np.log(np.maximum(emission, _FLOOR)).reshape(-1, k))
            with np.errstate(divide="ignore"):
                tags = chains.viterbi(log_e, np.log(start), np.log(trans))
        else:
            tags = gamma.argmax(axis=1).astype(np.intp)
        marginal, _ = self._confusions(counts.sum(axis=1, keepdims=True))
        self._store(enc, marginal[:, 0], trans, start, gamma, history)
        return gamma, tags

    def _contexts(self, enc: EncodedTags) -> Codes:
        """Each cell's context: the annotator's own tag on the previous token (``O`` at a text's start)
        with the sequential worker model, 0 with the plain confusion matrix."""
        if self.worker_model == "confusion" or len(enc.cell_tag) == 0:
            return np.zeros(len(enc.cell_tag), dtype=np.intp)
        previous = np.concatenate([[0], enc.cell_tag[:-1]])
        at_start = enc.cell_token == enc.task_tok[enc.tok_task[enc.cell_token]]
        return np.where(at_start, 0, previous).astype(np.intp)

    def _start(self, enc: EncodedTags) -> Floats:
        if self.init == "dawid_skene" and len(enc.cell_token):
            probas, _ = TokenDawidSkene()._fit_tags(enc)
            return probas
        return shares(vote_counts(enc))

    def _store(
        self,
        enc: EncodedTags,
        emission: Floats,
        trans: Floats,
        start: Floats,
        gamma: Floats,
        history: list[float],
    ) -> None:
        names = pd.Index(enc.tag_names, name="tag")
        confusion = emission.transpose(0, 2, 1)  # [w, true k, answered l]
        prior = gamma.sum(axis=0) / max(enc.n_tokens, 1)
        self.confusions_ = confusion_frame(confusion, enc)
        self.transitions_ = pd.DataFrame(
            trans, index=names.rename("from_tag"), columns=names.rename("to_tag")
        )
        self.initial_ = pd.Series(start, index=names, name="initial")
        self.priors_ = pd.Series(prior, index=names, name="prior")
        skill = entity_skill(confusion, prior)
        self.skills_ = pd.Series(skill, index=enc.answers.workers.rename("worker"), name="skill")
        self.n_iter_ = len(history)
        self.objective_history_ = history
