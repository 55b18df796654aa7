"""The dataset card of a release: what a training team needs to trust it, as JSON and Markdown.

Counts per split, class balance of each choice question, how the labels were decided (and so the
share labelled by models), agreement with its bootstrap interval (the project's quality report),
annotators under pseudonyms with their answers, the licences of the sources (each item's
`meta.license` as imported), the modality manifests beside the Parquet files and the items they could
not hold, the label schema, and known issues: the items a loop round flagged as possibly mislabelled
and not resolved since.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np

from labelloop.schema import LabelSchema
from labelloop.services.curation.manifest import DECIDED_BY, Collected
from labelloop.services.curation.splits import SPLITS

KNOWN_ISSUES_LISTED = 1000  # the card lists this many flagged items; the count is always whole


def _balance(values: list[dict[str, Any]], question: str, split_of: np.ndarray) -> dict[str, Any]:
    """Items per class, over all and per split."""
    counted = Counter(zip(split_of.tolist(), (v.get(question) for v in values), strict=True))
    per: dict[str, Counter[str]] = {name: Counter() for name in ("all", *SPLITS)}
    for (split, value), n in counted.items():
        if value is not None:
            per["all"][str(value)] += n
            per[SPLITS[split]][str(value)] += n
    return {name: dict(sorted(c.items())) for name, c in per.items()}


def build_card(
    *, project: str, release: str, schema: LabelSchema, document: dict[str, Any], got: Collected,
    split_of: np.ndarray, options: dict[str, Any], agreement: dict[str, Any],
    media: dict[str, Any] | None = None,
) -> dict[str, Any]:
    n = len(got.external_id)
    counts = np.bincount(split_of, minlength=len(SPLITS)) if n else np.zeros(len(SPLITS), dtype=int)
    splits = {name: int(counts[i]) for i, name in enumerate(SPLITS)}
    decided = Counter(got.decided_by)
    balance: dict[str, Any] = {}
    for q in schema.questions:
        if q.kind.name != "choice":
            continue
        balance[q.name] = _balance(got.values, q.name, split_of)
    confidences = np.array([c for c in got.confidence if c is not None], dtype=float)
    return {
        "project": project,
        "release": release,
        "items": n,
        "unlabelled_left_out": got.unlabelled,
        "splits": splits,
        "split_options": options,
        "class_balance": balance,
        "decided_by": {k: decided.get(k, 0) for k in DECIDED_BY},
        "share_labelled_by_models": (decided.get("auto-label", 0) / n) if n else 0.0,
        "mean_confidence": float(confidences.mean()) if confidences.size else None,
        "agreement": agreement,
        "annotators": {"count": len(got.answers_by), "answers": dict(sorted(got.answers_by.items()))},
        "source_licenses": dict(sorted(got.licenses.items())),
        "media_manifests": media or {},
        "schema": document,
        "known_issues": {
            "label_error_flags": len(got.label_issues),
            "flagged_items": got.label_issues[:KNOWN_ISSUES_LISTED],
        },
    }


def _fmt(x: Any) -> str:
    return "n/a" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def card_markdown(card: dict[str, Any]) -> str:
    """The card for people: the same facts as the JSON."""
    lines = [f"# {card['project']} — release {card['release']}", "",
             f"{card['items']} labelled items ({card['unlabelled_left_out']} unlabelled left out).", "",
             "## Splits", "", "| split | items |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in card["splits"].items()]
    lines += ["", f"Options: `{card['split_options']}`", "", "## How labels were decided", "",
              "| decided by | items |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in card["decided_by"].items()]
    lines += ["", f"Share labelled by models: {card['share_labelled_by_models']:.3f}; "
              f"mean consensus confidence: {_fmt(card['mean_confidence'])}.", "", "## Class balance", ""]
    for question, per in card["class_balance"].items():
        lines += [f"### {question}", "", "| class | " + " | ".join(per) + " |",
                  "|---|" + "---|" * len(per)]
        classes = sorted({c for counts in per.values() for c in counts})
        lines += [f"| {c} | " + " | ".join(str(per[s].get(c, 0)) for s in per) + " |" for c in classes]
        lines.append("")
    lines += ["## Agreement", "", "| question | items | agreement | alpha | 95% interval |",
              "|---|---|---|---|---|"]
    for q in card["agreement"].get("questions", []):
        lines.append(f"| {q['question']} | {q['items']} | {_fmt(q['percent_agreement'])} "
                     f"| {_fmt(q['alpha'])} | {_fmt(q['alpha_low'])} to {_fmt(q['alpha_high'])} |")
    lines += ["", "## Annotators", "", f"{card['annotators']['count']} annotators (pseudonymous ids).",
              "",
              "| annotator | answers |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in card["annotators"]["answers"].items()]
    lines += ["", "## Licences of the sources", "", "| licence (`meta.license`) | items |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in card["source_licenses"].items()]
    if card["media_manifests"]:
        lines += ["", "## Media manifests", "", "| format | items | labelled items it cannot hold |",
                  "|---|---|---|"]
        held = card["media_manifests"]
        lines += [f"| {k} | {v} | {held['left_out'][k]} |" for k, v in held["described"].items()]
        lines += ["", "Images and clips are named in `media.csv` by their SHA-256 (`blob:<sha256>`), "
                  "not copied into the release."]
    issues = card["known_issues"]
    lines += ["", "## Known issues", "",
              f"{issues['label_error_flags']} items flagged as possibly mislabelled by the model loop and "
              "not resolved."]
    lines += [f"- {f['external_id']}: {', '.join(f['reasons'])}" for f in issues["flagged_items"]]
    lines += ["", "## Schema", "", "```json", _json(card["schema"]), "```", ""]
    return "\n".join(lines)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
