"""Pairwise preferences: Bradley-Terry scores with annotator reliability (Crowd-BT), Davidson's ties,
per-prompt winners with their posterior probability, a leaderboard of generating models with
bootstrap intervals, and agreement (kappas, annotators against the aggregate). Pure numpy/pandas/scipy.

Input everywhere: a long table ``worker, left, right, label`` (``label`` the preferred item's id or
``"tie"``), optionally ``task`` (the prompt); see :mod:`labelloop.quality.pairwise._input`.
"""

from labelloop.quality.pairwise.agreement import (
    preference_annotator_agreement,
    preference_annotator_agreement_loo,
    preference_answers,
    preference_fleiss_kappa,
    preference_kappa_matrix,
)
from labelloop.quality.pairwise.bradley_terry import (
    BradleyTerry,
    BradleyTerryModel,
    PairwiseAggregator,
    WinRate,
)
from labelloop.quality.pairwise.crowd_bt import CrowdBT, default_pairwise_aggregator
from labelloop.quality.pairwise.leaderboard import model_battles, model_leaderboard
from labelloop.quality.pairwise.simulate import simulate_pairwise_crowd
from labelloop.quality.pairwise.winners import best_in_task, task_winners

__all__ = [
    "BradleyTerry",
    "BradleyTerryModel",
    "CrowdBT",
    "PairwiseAggregator",
    "WinRate",
    "best_in_task",
    "default_pairwise_aggregator",
    "model_battles",
    "model_leaderboard",
    "preference_annotator_agreement",
    "preference_annotator_agreement_loo",
    "preference_answers",
    "preference_fleiss_kappa",
    "preference_kappa_matrix",
    "simulate_pairwise_crowd",
    "task_winners",
]
