"""The dataset card (`README.md`) of a Hugging Face export: a YAML header the Hub and `datasets`
read (license, task categories, one config per table pointing at its shards), then how the data
was labelled.

The header is written with `yaml.safe_dump` from values the export controls; the project's name
is the owner's free text, so it goes into the header as a quoted YAML string and into the body
on one line, never as raw YAML or HTML.
"""

from __future__ import annotations

from typing import Any

import yaml

from labelloop import __version__
from labelloop.services.exporting.feedback.plan import FeedbackPlan

ABOUT = {
    "dpo": "preference pairs (`prompt`, `chosen`, `rejected`, `margin`): for DPO and reward models",
    "sft": "conversations in OpenAI's chat format (`messages`): for supervised fine-tuning",
    "ratings": "one row per item, response and criterion: the aggregated score and how many rated it",
}
TASKS = {"dpo": ["text-generation", "reinforcement-learning"], "sft": ["text-generation"],
         "ratings": ["text-classification"]}


def _size(n: int) -> str:
    """The Hub's size category for n rows."""
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < bound:
            return name
    return "n>10M"


def _figure(x: float | None) -> str:
    return "n/a (too few overlapping answers)" if x is None else f"{x:.3f}"


def header(plan: FeedbackPlan) -> dict[str, Any]:
    configs = plan.configs()
    counts = plan.counts()
    tasks = sorted({t for c in configs for t in TASKS[c]})
    return {
        "license": plan.license,
        "pretty_name": " ".join(plan.project_name.split())[:200] or "labelloop export",
        "task_categories": tasks or ["text-generation"],
        "tags": ["labelloop", "human-feedback", *configs],
        "size_categories": [_size(max((counts[c] for c in configs), default=0))],
        "configs": [
            {"config_name": c, **({"default": True} if i == 0 else {}),
             "data_files": [{"split": "train", "path": f"data/{c}/train-*"}]}
            for i, c in enumerate(configs)
        ],
    }


def card(plan: FeedbackPlan, shards: dict[str, list[str]]) -> str:
    """The card's text; `shards` lists each config's shard files."""
    head = yaml.safe_dump(header(plan), sort_keys=False, allow_unicode=True)
    name = " ".join(plan.project_name.split()) or "labelloop export"
    counts = plan.counts()
    lines = [
        "---", head.rstrip("\n"), "---", "", f"# {name}", "",
        f"Human feedback on language-model responses, labelled with labelloop {__version__} and "
        f"exported on {plan.day.isoformat()}.", "",
        "## Tables", "",
    ]
    configs = plan.configs()
    for c in configs:
        lines.append(f"- `{c}` ({counts[c]} rows, {len(shards.get(c, []))} shard(s)): {ABOUT[c]}.")
    if not configs:
        lines.append("- none yet: no answer has settled a preference, a rewrite or a rating.")
    lines += [
        "", "## How it was labelled", "",
        f"- {plan.annotators} annotators gave {plan.answers} answers (each annotator's latest answer "
        "per item; human answers only).",
    ]
    for q, p in plan.preferences.items():
        kind = plan.kinds[q]
        measure = "Fleiss' kappa" if kind == "preference" else "mean Kendall's tau between annotators"
        lines.append(
            f"- `{q}` ({kind}): {p.comparisons} pairwise comparisons, aggregated with Crowd-BT "
            f"(Bradley-Terry with a reliability per annotator); {measure}: {_figure(p.agreement)}.")
        if q == plan.dpo:
            lines.append(
                f"  DPO pairs: {p.n_pairs}; left out: {p.ties} ties and {p.no_winner} pairs without a "
                "clear winner. `margin` is the difference of the two responses' Crowd-BT scores.")
    for criterion, alpha in plan.ratings.agreement.items():
        lines.append(f"- rating `{criterion}`: robust mean with per-annotator bias; Krippendorff's "
                     f"alpha (interval): {_figure(alpha)}.")
    rewrites = sum(len(q) for q in plan.rewrites.values())
    if rewrites:
        lines.append(f"- {rewrites} accepted rewrites (the consensus of each rewrite question) "
                     "are SFT rows.")
    lines += ["", "Load a table with `datasets.load_dataset(\"<this folder>\", \"<config>\")`.", ""]
    return "\n".join(lines)
