"""The project's recommended settings."""

from __future__ import annotations

from labelloop.quality.classification.base import CategoricalAggregator
from labelloop.quality.classification.dawid_skene import DawidSkene
from labelloop.quality.classification.ensemble import EnsembleAggregator
from labelloop.quality.classification.mace import MACE


def default_aggregator() -> CategoricalAggregator:
    """The recommended aggregator for categorical answers: the average of the posteriors of
    Dawid-Skene (full confusion matrices, light Dirichlet prior shrunk towards the crowd's pooled
    confusion) and MACE (competence or spam).

    Why: over the eight public crowd datasets of ``bench/quality.py`` each model wins where the other
    is weak (MACE on sparse graded relevance, Dawid-Skene on class-dependent confusions) and their
    average has a mean accuracy of 0.874 there, above every crowd-kit method's mean. That figure is
    in-sample: the pair was picked on those same eight. Judged honestly, by leave-one-dataset-out
    (pick the best of 63 rules, every pool member and every average of two or three of weighted
    majority, Dawid-Skene, one-coin Dawid-Skene, GLAD, MACE, Bayesian Dawid-Skene and EBCC, on seven
    data sets, score it on the eighth), this way of choosing scores 0.868 (``loo_default_mean`` in
    ``make bench-quality``). No alternative did better out of sample: choosing per project without
    labels (the member that agrees most with the others: 0.864; the average of all seven: 0.866),
    EBCC (0.849) and Bayesian Dawid-Skene (0.855) alone, and choosing by gold items
    (:class:`~labelloop.quality.classification.selection.GoldSelectedAggregator`: within +-0.15
    points with 10, 30 or 100 gold items), so this stays the default. Its Dawid-Skene and MACE
    settings were also chosen on the eight, which the leave-one-out figure does not undo: expect
    less on new data (0.813 on fourteen other crowds). Both members stay sensible with very few
    answers per worker; on a million answers it takes about twice as long as ``DawidSkene()``.
    """
    return EnsembleAggregator(members=[DawidSkene(), MACE()])
