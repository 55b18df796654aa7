"""Rankings: weighted Plackett-Luce by MM with learned or given annotator weights, weighted Borda, and
Kendall's tau between annotators and against the aggregate. Pure numpy/pandas.

Input everywhere: a long table ``task, worker, ranking`` (``ranking`` a list of item ids, best first;
partial rankings allowed); see :mod:`labelloop.quality.rankings._input`.
"""

from labelloop.quality.rankings.agreement import (
    kendall_tau_pairs,
    mean_kendall_tau,
    ranking_annotator_agreement,
)
from labelloop.quality.rankings.borda import WeightedBorda
from labelloop.quality.rankings.plackett_luce import (
    PlackettLuce,
    RankingAggregator,
    default_ranking_aggregator,
    temperatures,
)
from labelloop.quality.rankings.simulate import simulate_ranking_crowd

__all__ = [
    "PlackettLuce",
    "RankingAggregator",
    "WeightedBorda",
    "default_ranking_aggregator",
    "kendall_tau_pairs",
    "mean_kendall_tau",
    "ranking_annotator_agreement",
    "simulate_ranking_crowd",
    "temperatures",
]
