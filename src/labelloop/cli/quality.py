"""`labelloop quality ...`: agreement and annotator reports, consensus recompute."""

from __future__ import annotations

import typer

from labelloop.cli.common import OPERATOR, console, project_id, read, runtime, table, write
from labelloop.services.jobs import create_job, run_job
from labelloop.services.quality import consensus
from labelloop.services.quality import reports as quality_reports

quality_app = typer.Typer(help="Agreement, annotator quality and consensus.", no_args_is_help=True)


def _num(x: float | None, digits: int = 3) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _interval(mean: float | None, low: float | None, high: float | None) -> str:
    return "" if mean is None else f"{mean:.2f} ({_num(low, 2)}..{_num(high, 2)})"


@quality_app.command("report")
def report(project: str = typer.Argument(..., help="Project id or name.")) -> None:
    """Agreement per question (Krippendorff's alpha with a bootstrap interval) and consensus."""
    with runtime() as rt:
        r = read(rt, quality_reports.agreement_report, project_id(rt, project))
    table("Agreement", ["question", "type", "items", "% agree", "alpha", "alpha 95% CI", "Fleiss kappa"],
          [[q["question"], q["type"], q["items"], _num(q["percent_agreement"]), _num(q["alpha"]),
            f"{_num(q['alpha_low'])}..{_num(q['alpha_high'])}" if q["alpha_low"] is not None else "",
            _num(q["fleiss_kappa"])] for q in r["questions"]])
    c = r["consensus"]
    console.print(f"consensus on {c['items']} items, mean confidence {_num(c['mean_confidence'])}, "
                  f"confident share {_num(c['share_confident'])}; review pending {r['review']['pending']}, "
                  f"decided {r['review']['decided']}; paused annotators {r['paused_annotators']}")
    width = max((h["items"] for h in c["histogram"]), default=0) or 1
    for h in c["histogram"]:
        bar = "█" * round(30 * h["items"] / width)
        console.print(f"  {h['low']:.2f}-{h['high']:.2f} {bar} {h['items']}", highlight=False)


@quality_app.command("annotators")
def annotators(project: str = typer.Argument(..., help="Project id or name.")) -> None:
    """Each annotator: answers, speed, gold accuracy with its interval, agreement, flags, pause."""
    with runtime() as rt:
        rows = read(rt, quality_reports.annotator_report, project_id(rt, project))
    table("Annotators", ["user", "answers", "median s", "gold", "gold accuracy (95%)", "agrees",
                         "skill", "flags", "paused"],
          [[r["username"], r["answers"],
            _num(r["median_duration_ms"] / 1000 if r["median_duration_ms"] else None, 1),
            f"{r['gold_correct']}/{r['gold_answered']}",
            _interval(r["gold_accuracy"], r["gold_accuracy_low"], r["gold_accuracy_high"]),
            _num(r["agreement_with_consensus"], 2), _num(r["skill"], 2), ", ".join(r["flags"]),
            r["paused_reason"] or ""] for r in rows])


@quality_app.command("recompute")
def recompute(project: str = typer.Argument(..., help="Project id or name.")) -> None:
    """Re-fit consensus and annotator skills over every answer of the project."""
    with runtime() as rt:
        pid = project_id(rt, project)
        job = write(rt, create_job, pid, "recompute", {}, foreground=True)
        done = run_job(rt.db, job.id, lambda _p: consensus.recompute_project(rt.db, OPERATOR, pid))
    if done.status != "succeeded":
        console.print(f"[red]failed:[/red] {(done.error or {}).get('message')}")
        raise typer.Exit(1)
    r = done.result or {}
    console.print(f"consensus for {r.get('items')} items from {r.get('annotators')} annotators "
                  f"({r.get('method')}), mean confidence {_num(r.get('mean_confidence'))}")
