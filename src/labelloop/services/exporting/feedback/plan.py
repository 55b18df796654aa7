"""What a training export holds, decided before its first byte: the format fits the schema, and
every aggregate is computed (its counts go into the export's summary).

The aggregates need every answer of their questions (one fit over the whole project), not the
items' text, so they are computed here; the rows' text (prompts, candidates, rewrites) is read
item by item as the file is written (stream.py), and an item deleted in between is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema, Question
from labelloop.services.exporting.feedback.aggregate import (
    PAIRWISE,
    Preferences,
    Ratings,
    Vote,
    preferences,
    ratings,
)
from labelloop.services.exporting.feedback.content import PromptField, prompt_field
from labelloop.services.exporting.feedback.votes import accepted_rewrites, latest_votes

# format -> (media type, file suffix)
FORMATS: dict[str, tuple[str, str]] = {
    "dpo": ("application/x-ndjson", "dpo.jsonl"),
    "sft": ("application/x-ndjson", "sft.jsonl"),
    "ratings": ("text/csv", "ratings.csv"),
    "ratings-parquet": ("application/vnd.apache.parquet", "ratings.parquet"),
    "hf": ("application/zip", "hf.zip"),
}
# The question types each format is made from.
NEEDS: dict[str, tuple[str, ...]] = {
    "dpo": PAIRWISE,
    "sft": (*PAIRWISE, "rewrite"),
    "ratings": ("criteria",),
    "ratings-parquet": ("criteria",),
    "hf": (*PAIRWISE, "rewrite", "criteria"),
}
LICENSE = re.compile(r"[a-z0-9][a-z0-9.+-]{0,63}")


@dataclass(frozen=True)
class FeedbackPlan:
    format: str
    project_name: str
    prompt: PromptField | None
    targets: dict[str, str]  # question -> the responses field it is about
    kinds: dict[str, str]  # question -> type
    dpo: str | None  # the preference or ranking question the DPO pairs come from
    preferences: dict[str, Preferences]  # every preference/ranking question used
    rewrites: dict[int, list[str]]  # item -> rewrite questions whose consensus holds a rewrite
    ratings: Ratings
    annotators: int
    answers: int
    license: str = "other"
    day: date = field(default_factory=lambda: datetime.now(UTC).date())

    @property
    def media_type(self) -> str:
        return FORMATS[self.format][0]

    @property
    def suffix(self) -> str:
        return FORMATS[self.format][1]

    def winners(self, item_id: int) -> list[tuple[str, str]]:
        """(question, response) of the item's winners, one per response."""
        out: list[tuple[str, str]] = []
        for q, prefs in self.preferences.items():
            w = prefs.winners.get(item_id)
            if w is not None and all(w != r for _, r in out):
                out.append((q, w))
        return out

    def counts(self) -> dict[str, int]:
        """Rows per training table (before items deleted since the plan are left out)."""
        dpo = self.preferences[self.dpo].n_pairs if self.dpo is not None else 0
        winners = {i for p in self.preferences.values() for i in p.winners}
        sft = sum(len(self.winners(i)) for i in winners) + sum(len(q) for q in self.rewrites.values())
        return {"dpo": dpo, "sft": sft, "ratings": self.ratings.n_rows}

    def configs(self) -> list[str]:
        """The Hugging Face configs this project has rows for."""
        kinds = set(self.kinds.values())
        counts = self.counts()
        offered = (("dpo", self.dpo is not None), ("sft", bool(kinds & {*PAIRWISE, "rewrite"})),
                   ("ratings", "criteria" in kinds))
        return [name for name, ok in offered if ok and counts[name]]

    def summary(self) -> dict[str, Any]:
        """What the export holds and what it left out: the X-Labelloop-Summary header, the card."""
        counts = self.counts()
        kinds = set(self.kinds.values())
        out: dict[str, Any] = {"format": self.format, "annotators": self.annotators, "answers": self.answers}
        if self.format in ("dpo", "hf") and self.dpo is not None:
            p = self.preferences[self.dpo]
            out["dpo"] = {"question": self.dpo, "pairs": p.n_pairs, "ties_left_out": p.ties,
                          "no_winner_left_out": p.no_winner, "comparisons": p.comparisons}
        if self.format in ("sft", "hf") and kinds & {*PAIRWISE, "rewrite"}:
            rewrites = sum(len(q) for q in self.rewrites.values())
            out["sft"] = {"rows": counts["sft"], "from_winners": counts["sft"] - rewrites,
                          "from_rewrites": rewrites}
        if self.format in ("ratings", "ratings-parquet", "hf") and "criteria" in kinds:
            out["ratings"] = {"rows": counts["ratings"]}
        return out


def _questions(schema: LabelSchema, fmt: str, name: str | None) -> list[Question]:
    """The schema's questions the format is made from; Invalid naming what is missing."""
    needs = NEEDS[fmt]
    usable = [q for q in schema.questions if q.kind.name in needs]
    if not usable:
        have = ", ".join(f"{q.name} ({q.kind.name})" for q in schema.questions) or "none"
        wanted = needs[0] if len(needs) == 1 else f"{', '.join(needs[:-1])} or {needs[-1]}"
        raise Invalid(f"this project has nothing to export as {fmt}", [Problem(
            f"{fmt} is made from a {wanted} question; the schema's questions: {have}", field="format")])
    if name is None:
        return usable
    found = [q for q in schema.questions if q.name == name]
    if not found:
        known = ", ".join(q.name for q in usable)
        raise Invalid("no such question", [Problem(f"{name!r}; {fmt} questions: {known}", field="question")])
    q = found[0]
    if q.kind.name not in needs:
        raise Invalid("the format is not made from this question", [Problem(
            f"{name!r} is a {q.kind.name} question; {fmt} is made from {', '.join(needs)}",
            field="question")])
    # The named question replaces the others of its family (preference/ranking, rewrite, criteria).
    family = PAIRWISE if q.kind.name in PAIRWISE else (q.kind.name,)
    return [x for x in usable if x.kind.name not in family or x.name == name]


def _dpo_question(fmt: str, pairwise: list[Question]) -> str | None:
    if fmt not in ("dpo", "hf") or not pairwise:
        return None
    if len(pairwise) > 1:
        names = ", ".join(q.name for q in pairwise)
        raise Invalid("say which question", [Problem(
            f"the schema has several preference or ranking questions ({names}); choose one",
            field="question")])
    return pairwise[0].name


def feedback_plan(
    conn: Connection, project_id: int, project_name: str, schema: LabelSchema, fmt: str,
    question: str | None = None, license: str = "other",
) -> FeedbackPlan:
    """Check the format against the schema, then aggregate what the export needs."""
    if not LICENSE.fullmatch(license):
        raise Invalid("invalid license", [Problem(
            "a Hugging Face license id such as apache-2.0, cc-by-4.0, mit or other", field="license")])
    used = _questions(schema, fmt, question)
    pairwise = [q for q in used if q.kind.name in PAIRWISE]
    dpo = _dpo_question(fmt, pairwise)
    if fmt == "dpo":
        pairwise = [q for q in pairwise if q.name == dpo]
        used = pairwise
    votes = latest_votes(conn, project_id, [q.name for q in used])
    prefs = {q.name: preferences(q.kind.name, votes[q.name]) for q in pairwise}
    rewrite_qs = [q.name for q in used if q.kind.name == "rewrite"]
    rated = Ratings()
    for q in used:
        if q.kind.name == "criteria":
            r = ratings(q.name, q.spec, votes[q.name])
            for item, rows in r.rows.items():
                rated.rows.setdefault(item, []).extend(rows)
            rated.agreement.update({f"{q.name}.{c}": a for c, a in r.agreement.items()})
    everyone: list[Vote] = [v for vs in votes.values() for v in vs]
    return FeedbackPlan(
        format=fmt, project_name=project_name, prompt=prompt_field(schema),
        targets={q.name: q.spec.target or "" for q in used}, kinds={q.name: q.kind.name for q in used},
        dpo=dpo, preferences=prefs, rewrites=accepted_rewrites(conn, project_id, rewrite_qs),
        ratings=rated, annotators=len({v.worker for v in everyone}),
        answers=len({(v.item_id, v.worker) for v in everyone}), license=license,
    )
