"""`labelloop audit ...`: anchors, the chain's check, and exports for an auditor (docs/audit.md)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import typer
from rich.markup import escape

from labelloop.cli.common import OPERATOR, console, err_console, project_id, runtime
from labelloop.services.audit.log import FORMATS, AuditFilter, export_entries
from labelloop.services.audit.verify import anchor_of, parse_anchor, verify

audit_app = typer.Typer(help="The tamper-evident audit log: anchors, verify, export.", no_args_is_help=True)


@audit_app.command("anchor")
def anchor(
    output: Path | None = typer.Option(None, "--output", "-o", help="Also write the anchor to this file."),
) -> None:
    """Print the log's head (sequence, hash, time) as JSON, to keep somewhere the server cannot
    write; `labelloop audit verify --anchor FILE` later proves the log still holds it."""
    with runtime() as rt, rt.db.read() as conn:
        doc = anchor_of(conn)
    text = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode()
    if output:
        output.write_text(text + "\n")
        err_console.print(f"wrote {escape(str(output))}")
    print(text)


@audit_app.command("verify")
def verify_command(
    anchor_file: list[Path] = typer.Option([], "--anchor", help="An anchor written by `audit anchor` "
                                           "(repeat for several)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
) -> None:
    """Recompute every hash of the chain and say where it breaks: a changed entry, a missing
    (deleted) one, an inserted one, reordered ones, a log shorter than its head or an anchor.
    Exits with status 1 if anything is wrong."""
    anchors = []
    for path in anchor_file:
        try:
            anchors.append(parse_anchor(path.read_bytes()))
        except (OSError, ValueError) as e:
            err_console.print(f"[red]error:[/red] {escape(str(path))}: {escape(str(e))}", highlight=False)
            raise typer.Exit(2) from None
    with runtime() as rt, rt.db.read() as conn:
        reports = [verify(conn, a) for a in anchors] if anchors else [verify(conn)]
    problems = {(p.seq, p.kind, p.message): p for r in reports for p in r.problems}
    report = reports[0]
    if as_json:
        out = report.as_dict()
        out["problems"] = [{"seq": p.seq, "kind": p.kind, "message": p.message}
                           for p in sorted(problems.values(), key=lambda p: p.seq)]
        out["ok"] = not problems
        out["anchors"] = anchors
        print(orjson.dumps(out).decode())
    elif not problems:
        console.print(f"ok: {report.entries} entries, head {report.head_seq} {report.head_hash}"
                      + (f"; {len(anchors)} anchor(s) held" if anchors else ""), highlight=False)
    else:
        err_console.print(f"[red]the audit log is broken[/red] ({report.entries} entries read; first break "
                          f"at entry {min(p.seq for p in problems.values())}):", highlight=False)
        for p in sorted(problems.values(), key=lambda p: p.seq):
            err_console.print(f"  entry {p.seq}: {p.kind}: {escape(p.message)}", highlight=False)
    if problems:
        raise typer.Exit(1)


def _when(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("a date or time, e.g. 2026-11-29 or 2026-11-29T10:00:00Z",
                                 param_hint=name) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@audit_app.command("export")
def export(
    project: str | None = typer.Option(None, help="Only this project's entries (id or name)."),
    since: str | None = typer.Option(None, help="From this date or time (UTC unless a zone is given)."),
    until: str | None = typer.Option(None, help="Before this date or time."),
    format: str = typer.Option("jsonl", help=f"{' or '.join(FORMATS)}."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
) -> None:
    """Entries oldest first with their hashes, for an auditor (docs/audit.md says how to re-check
    them; a project's or a time range's entries are part of the chain, not all of it)."""
    with runtime() as rt:
        f = AuditFilter(project_id=project_id(rt, project) if project else None,
                        since=_when(since, "--since"), until=_when(until, "--until"))
        chunks = export_entries(rt.db, OPERATOR, f, format)
        out = output.open("wb") if output else sys.stdout.buffer
        try:
            for chunk in chunks:
                out.write(chunk)
        finally:
            if output:
                out.close()
    if output:
        err_console.print(f"wrote {escape(str(output))}")
