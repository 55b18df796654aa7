"""The vectorised forward-backward and Viterbi over many chains, against brute-force enumeration of every
tag sequence; and the BIO grammar of the constrained model."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality.spans.chains import Chains
from labelloop.quality.spans.hmm import bio_allowed


def brute_force(
    log_e: np.ndarray, start: np.ndarray, trans: np.ndarray, task_tok: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray]:
    k = log_e.shape[1]
    gamma = np.zeros_like(log_e)
    xi = np.zeros((k, k))
    first = np.zeros(k)
    log_lik = 0.0
    best = np.zeros(len(log_e), dtype=int)
    for a, b in itertools.pairwise(task_tok):
        if a == b:
            continue
        total, top, top_p = 0.0, None, -1.0
        chain_xi, chain_gamma, chain_first = np.zeros((k, k)), np.zeros((b - a, k)), np.zeros(k)
        for seq in itertools.product(range(k), repeat=b - a):
            p = start[seq[0]] * np.exp(log_e[a, seq[0]])
            for i in range(1, b - a):
                p *= trans[seq[i - 1], seq[i]] * np.exp(log_e[a + i, seq[i]])
            total += p
            if p > top_p:
                top, top_p = seq, p
            chain_first[seq[0]] += p
            for i, s in enumerate(seq):
                chain_gamma[i, s] += p
            for i in range(1, b - a):
                chain_xi[seq[i - 1], seq[i]] += p
        gamma[a:b] = chain_gamma / total
        xi += chain_xi / total
        first += chain_first / total
        log_lik += np.log(total)
        best[a:b] = top
    return gamma, first, xi, log_lik, best


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=5), st.integers(2, 3), st.integers(0, 10_000))
def test_forward_backward_and_viterbi_match_enumeration(lengths: list[int], k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    task_tok = np.concatenate([[0], np.cumsum(lengths)]).astype(np.intp)
    log_e = rng.normal(0, 3, (int(task_tok[-1]), k)) - 50  # far from 1: the scaling must hold
    start = rng.dirichlet(np.ones(k))
    trans = rng.dirichlet(np.ones(k), size=k)
    chains = Chains(task_tok)
    gamma, first, xi, log_lik = chains.forward_backward(log_e, start, trans)
    path = chains.viterbi(log_e, np.log(start), np.log(trans))
    g, f, x, ll, best = brute_force(log_e, start, trans, task_tok)
    np.testing.assert_allclose(gamma, g, atol=1e-9)
    np.testing.assert_allclose(first, f, atol=1e-9)
    np.testing.assert_allclose(xi, x, atol=1e-9)
    assert abs(log_lik - ll) < 1e-8
    np.testing.assert_array_equal(path, best)


def test_bio_grammar() -> None:
    allowed, start = bio_allowed(2)  # O, B-a, I-a, B-b, I-b
    assert start.tolist() == [True, True, False, True, False]
    assert allowed[:, 2].tolist() == [False, True, True, False, False]  # I-a after B-a or I-a only
    assert allowed[:, 4].tolist() == [False, False, False, True, True]
    assert allowed[:, [0, 1, 3]].all()  # O and B anywhere


def test_algorithm_modules_cite_their_papers() -> None:
    import importlib

    cited = {
        "labelloop.quality.spans.hmm": ["Nguyen", "2017", "Simpson", "Gurevych", "Dawid", "Rabiner"],
        "labelloop.quality.spans.vote": ["Dawid", "Skene", "1979", "Nguyen"],
        "labelloop.quality.spans.chains": ["Rabiner", "1989"],
        "labelloop.quality.spans.tags": ["Tjong Kim Sang", "CoNLL"],
        "labelloop.quality.spans.metrics": ["CoNLL-2003"],
    }
    for module, words in cited.items():
        doc = importlib.import_module(module).__doc__ or ""
        assert all(word in doc for word in words), module
    assert ":math:" in (importlib.import_module("labelloop.quality.spans.hmm").__doc__ or "")
