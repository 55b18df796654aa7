r"""Token-wise votes over BIO tags: the plain majority, and a vote weighted by reliabilities learned by EM.

Both treat every token as its own classification task (:mod:`.tags` turns each answer into one tag per
token of the task's text) and ignore the order of tokens; the chosen tags are read back as spans by
the CoNLL rule, which also repairs an invalid sequence (``O I-PER`` starts a span at the ``I``).

:class:`TokenMajorityVote` (the baseline of the sequence-crowd literature, e.g. Nguyen et al. 2017):
:math:`\hat h_i = \arg\max_k \sum_w [y_{iw} = k]`; ties go to the smallest tag code, ``O`` first, so a
token half the annotators left outside every span stays outside.

:class:`TokenDawidSkene`: Dawid & Skene's model over tags, :math:`y_{iw} \sim \mathrm{Cat}(\pi^w_{h_i})`
with one confusion matrix per worker and a class prior, fitted by EM with the Dirichlet smoothing and
empirical-Bayes shrinkage of :class:`~labelloop.quality.DawidSkene` (which does the work). In effect a
weighted vote: worker :math:`w`'s answer :math:`l` adds :math:`\log\pi^w_{kl}` to tag :math:`k`, so a
careless worker's tags weigh little and a worker who habitually tags ``I`` for ``B`` is read right.

References: A. P. Dawid & A. M. Skene, *JRSS C* 28(1):20-28, 1979; A. T. Nguyen, B. C. Wallace, J. J.
Li, A. Nenkova & M. Lease, "Aggregating and Predicting Sequence Labels from Crowd Annotations", ACL 2017.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labelloop.quality.classification.dawid_skene import DawidSkene
from labelloop.quality.spans._input import Codes, Floats
from labelloop.quality.spans.base import SpanAggregator, shares, vote_counts
from labelloop.quality.spans.tags import EncodedTags


def entity_skill(confusion: Floats, prior: Floats) -> Floats:
    """Per worker: P(right tag | the token is in an entity),
    :math:`\\sum_{k>0}\\rho_k\\pi^w_{kk} / \\sum_{k>0}\\rho_k`.

    Tokens outside entities are most of any text and nearly everyone gets them right, so accuracy over
    all tokens would rank workers by how little they tag; ``confusion`` is ``[worker, true, answered]``.
    """
    diag = np.diagonal(confusion, axis1=1, axis2=2)[:, 1:]
    weight = prior[1:] / max(float(prior[1:].sum()), 1e-12)
    return np.asarray(diag @ weight, dtype=np.float64)


def confusion_frame(confusion: Floats, enc: EncodedTags) -> pd.DataFrame:
    """``[worker, true, answered]`` -> DataFrame indexed by (worker, true_tag), columns the answered tag."""
    names = pd.Index(enc.tag_names)
    index = pd.MultiIndex.from_product(
        [enc.answers.workers.rename("worker"), names.rename("true_tag")], names=["worker", "true_tag"]
    )
    k = enc.n_tags
    return pd.DataFrame(confusion.reshape(-1, k), index=index, columns=names.rename("tag"))


class TokenMajorityVote(SpanAggregator):
    """Token-wise plurality of BIO tags, read back as spans (see the module docstring).

    Learned: ``spans_``, ``token_tags_`` (confidence = the winning tag's vote share), ``skills_`` (each
    worker's agreement with the consensus on the tokens where either of them tags an entity).
    """

    skills_: pd.Series

    def _fit_tags(self, enc: EncodedTags) -> tuple[Floats, Codes]:
        probas = shares(vote_counts(enc))
        tags = probas.argmax(axis=1).astype(np.intp)
        chosen = tags[enc.cell_token]
        entity = (chosen > 0) | (enc.cell_tag > 0)
        n_w = enc.answers.n_workers
        hits = np.bincount(enc.cell_worker[entity], (chosen == enc.cell_tag)[entity], n_w)
        n = np.bincount(enc.cell_worker[entity], minlength=n_w)
        with np.errstate(invalid="ignore", divide="ignore"):
            skill = hits / n
        self.skills_ = pd.Series(skill, index=enc.answers.workers.rename("worker"), name="skill")
        return probas, tags


class TokenDawidSkene(SpanAggregator):
    """Dawid-Skene over token tags: a vote weighted by each worker's learned confusion matrix.

    Options (keyword-only, passed to :class:`~labelloop.quality.DawidSkene`): ``smoothing``,
    ``shrinkage``, ``prior_smoothing``, ``n_iter``, ``tol``.

    Learned: ``spans_``, ``token_tags_`` (confidence = posterior of the chosen tag), ``confusions_``
    (DataFrame indexed by (worker, true_tag), columns the answered tag), ``priors_`` (Series tag ->
    prior), ``skills_`` (:func:`entity_skill`), ``n_iter_``.
    """

    confusions_: pd.DataFrame
    priors_: pd.Series
    skills_: pd.Series
    n_iter_: int

    def __init__(
        self,
        *,
        smoothing: float = 0.3,
        shrinkage: float = 2.0,
        prior_smoothing: float = 1.0,
        n_iter: int = 100,
        tol: float = 1e-5,
    ) -> None:
        self.smoothing = smoothing
        self.shrinkage = shrinkage
        self.prior_smoothing = prior_smoothing
        self.n_iter = n_iter
        self.tol = tol
        self._dawid_skene()  # checks the options now rather than at fit

    def _dawid_skene(self) -> DawidSkene:
        return DawidSkene(
            smoothing=self.smoothing,
            shrinkage=self.shrinkage,
            prior_smoothing=self.prior_smoothing,
            n_iter=self.n_iter,
            tol=self.tol,
        )

    def _fit_tags(self, enc: EncodedTags) -> tuple[Floats, Codes]:
        k, n_w = enc.n_tags, enc.answers.n_workers
        probas = np.zeros((enc.n_tokens, k))
        probas[:, 0] = 1.0
        confusion = np.zeros((n_w, k, k))
        confusion[:, np.arange(k), np.arange(k)] = 1.0
        prior = np.eye(k)[0]
        self.n_iter_ = 0
        if len(enc.cell_token):
            table = pd.DataFrame({"task": enc.cell_token, "worker": enc.cell_worker, "label": enc.cell_tag})
            model = self._dawid_skene().fit(table)
            seen = model.probas_.columns.to_numpy(np.intp)  # the tag codes someone gave, sorted
            rows = model.probas_.index.to_numpy(np.intp)
            probas[rows] = 0.0
            probas[np.ix_(rows, seen)] = model.probas_.to_numpy()
            fitted = model.confusions_.to_numpy().reshape(-1, len(seen), len(seen))
            workers = model.confusions_.index.get_level_values("worker").unique().to_numpy(np.intp)
            confusion[np.ix_(workers, seen, seen)] = fitted
            prior = np.zeros(k)
            prior[seen] = model.priors_.to_numpy()
            self.n_iter_ = model.n_iter_
        self.confusions_ = confusion_frame(confusion, enc)
        self.priors_ = pd.Series(prior, index=pd.Index(enc.tag_names, name="tag"), name="prior")
        skill = entity_skill(confusion, prior)
        self.skills_ = pd.Series(skill, index=enc.answers.workers.rename("worker"), name="skill")
        return probas, probas.argmax(axis=1).astype(np.intp)
