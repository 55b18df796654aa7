r"""Forward-backward and Viterbi over many token chains at once (one chain per task).

The chains have different lengths. They are sorted longest first and their tokens laid out
*position-major*: block :math:`t` holds the :math:`t`-th token of every chain longer than :math:`t`,
in that order, so the chains still running at :math:`t` are a prefix of those running at
:math:`t-1`. Each recursion step is then one dense product over a contiguous block, and a Python loop
runs once per position of the longest chain, not once per token.

Forward-backward is the scaled form (Rabiner 1989, section V.A): :math:`\hat\alpha_t =
(\hat\alpha_{t-1}A \odot e_t)/c_t` with :math:`c_t` the row sum, :math:`\hat\beta_t = A(e_{t+1}\odot
\hat\beta_{t+1})/c_{t+1}`, :math:`\gamma_t = \hat\alpha_t\odot\hat\beta_t` and the expected transitions
:math:`\xi = A \odot \sum_t \hat\alpha_{t-1}^\top(e_t\odot\hat\beta_t/c_t)`; the log-likelihood is
:math:`\sum_t\log c_t` plus the offsets taken out of the emissions to keep them in range.

Reference: L. R. Rabiner, "A Tutorial on Hidden Markov Models and Selected Applications in Speech
Recognition", *Proceedings of the IEEE* 77(2):257-286, 1989.
"""

from __future__ import annotations

import numpy as np

from labelloop.quality.spans._input import Codes, Floats

_TINY = 1e-300


class Chains:
    """The position-major layout of the chains ``task_tok[c]:task_tok[c + 1]`` (see the module docstring)."""

    def __init__(self, task_tok: Codes) -> None:
        lengths = np.diff(task_tok)
        rank = np.argsort(-lengths, kind="stable")
        sorted_len = lengths[rank]
        self.n_positions = int(sorted_len[0]) if len(sorted_len) else 0
        positions = np.arange(self.n_positions)
        # active[t]: how many chains are longer than t (a prefix of the sorted chains).
        self.active = np.searchsorted(-sorted_len, -positions, side="left").astype(np.intp)
        self.blocks = np.concatenate([[0], np.cumsum(self.active)]).astype(np.intp)
        pos = np.repeat(positions, self.active)
        chain = np.arange(len(pos)) - self.blocks[:-1][pos]
        self.order: Codes = (task_tok[:-1][rank][chain] + pos).astype(np.intp)  # position-major -> token
        has_prev = pos > 0
        self.next_rows: Codes = np.flatnonzero(has_prev).astype(np.intp)
        self.prev_rows: Codes = (self.blocks[:-1][pos[has_prev] - 1] + chain[has_prev]).astype(np.intp)
        first = np.zeros(len(pos), dtype=bool)
        first[: self.active[0] if self.n_positions else 0] = True
        self.is_first = first

    def block(self, t: int, n: int | None = None) -> slice:
        start = int(self.blocks[t])
        return slice(start, start + (int(self.active[t]) if n is None else n))

    def forward_backward(
        self, log_emission: Floats, start: Floats, trans: Floats
    ) -> tuple[Floats, Floats, Floats, float]:
        """Token posteriors ``(n_tokens, K)``, expected first states ``(K,)``, expected transitions
        ``(K, K)`` and the total log-likelihood, for emissions given per token in token order."""
        le = log_emission[self.order]
        offset = le.max(axis=1, keepdims=True)
        e = np.exp(le - offset)
        n_rows, k = e.shape
        alpha = np.empty((n_rows, k))
        scale = np.empty(n_rows)
        for t in range(self.n_positions):
            rows = self.block(t)
            if t == 0:
                a = start[None, :] * e[rows]
            else:
                a = (alpha[self.block(t - 1, int(self.active[t]))] @ trans) * e[rows]
            s = np.maximum(a.sum(axis=1), _TINY)
            alpha[rows] = a / s[:, None]
            scale[rows] = s
        beta = np.ones((n_rows, k))
        weighted = np.empty((n_rows, k))  # e_t * beta_t / c_t, the factor both recursions share
        for t in range(self.n_positions - 1, -1, -1):
            rows = self.block(t)
            weighted[rows] = e[rows] * beta[rows] / scale[rows, None]
            if t > 0:
                n = int(self.active[t])
                beta[self.block(t - 1, n)] = weighted[rows] @ trans.T
        gamma = alpha * beta
        gamma /= np.maximum(gamma.sum(axis=1, keepdims=True), _TINY)
        xi = trans * (alpha[self.prev_rows].T @ weighted[self.next_rows])
        first = gamma[self.is_first].sum(axis=0)
        log_lik = float(np.log(scale).sum() + offset.sum())
        out = np.empty_like(gamma)
        out[self.order] = gamma
        return out, first, xi, log_lik

    def viterbi(self, log_emission: Floats, log_start: Floats, log_trans: Floats) -> Codes:
        """The most probable state of every token (token order) under the joint MAP path of its chain."""
        le = log_emission[self.order]
        n_rows, k = le.shape
        delta = np.empty((n_rows, k))
        back = np.zeros((n_rows, k), dtype=np.intp)
        for t in range(self.n_positions):
            rows = self.block(t)
            if t == 0:
                delta[rows] = log_start[None, :] + le[rows]
                continue
            cand = delta[self.block(t - 1, int(self.active[t]))][:, :, None] + log_trans[None]
            best = cand.argmax(axis=1)
            back[rows] = best
            delta[rows] = np.take_along_axis(cand, best[:, None, :], axis=1)[:, 0, :] + le[rows]
        state = np.zeros(n_rows, dtype=np.intp)
        for t in range(self.n_positions - 1, -1, -1):
            rows = self.block(t)
            n_next = int(self.active[t + 1]) if t + 1 < self.n_positions else 0
            here = delta[rows].argmax(axis=1)  # chains that end at t start their path here
            if n_next:
                nxt = self.block(t + 1)
                here[:n_next] = back[nxt][np.arange(n_next), state[nxt]]
            state[rows] = here
        out = np.empty(n_rows, dtype=np.intp)
        out[self.order] = state
        return out
