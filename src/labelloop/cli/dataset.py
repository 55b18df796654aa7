"""`labelloop dataset ...`: curated datasets out of a project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from labelloop.cli.common import console, project_id, read, runtime, table
from labelloop.cli.duplicates import duplicates_command
from labelloop.errors import Invalid, Problem
from labelloop.services.curation import slices
from labelloop.services.items import ItemFilter

dataset_app = typer.Typer(help="Curated datasets: releases, their diffs and exports.", no_args_is_help=True)


def _slice(rt: Any, pid: int, filters: list[str]) -> ItemFilter:
    """`--filter key=value` pairs as the data browser's filter (services/items.py ItemFilter), or
    `--filter SLICE`: a saved slice's name or id (docs/curation.md, "Slices"), alone."""
    saved = [f for f in filters if "=" not in f]
    if saved:
        if len(filters) > 1:
            raise Invalid("bad filter", [Problem(
                f"{saved[0]!r} names a saved slice: give it alone, or key=value filters", field="filter")])
        try:
            return read(rt, slices.slice_filter, pid, saved[0])
        except Invalid:
            raise Invalid("bad filter", [Problem(
                f"{saved[0]!r} is no saved slice of this project; or key=value: text=..., "
                "label=question:value, meta=key:value, review=pending|done, label_issue=true|false",
                field="filter")]) from None
    given: dict[str, Any] = {}
    for text in filters:
        key, sep, value = text.partition("=")
        if not sep or key not in ("text", "label", "meta", "review", "label_issue"):
            raise Invalid("bad filter", [Problem(
                f"{text!r}: text=..., label=question:value, meta=key:value, review=pending|done, "
                "label_issue=true|false", field="filter")])
        if key in ("label", "meta"):
            left, colon, right = value.partition(":")
            if not colon:
                raise Invalid("bad filter", [Problem(f"{text!r}: {key}=name:value", field="filter")])
            given[key] = (left, right)
        else:
            given[key] = value.lower() == "true" if key == "label_issue" else value
    return ItemFilter(**given)


def release_command(
    project: str = typer.Argument(..., help="Project id or name."),
    name: str = typer.Option(..., "--name", help="The release's name (v3); never reused."),
    filters: list[str] = typer.Option([], "--filter", help="A saved slice's name or id; or key=value: "
                                      "text, label=question:value, meta=key:value, review, label_issue "
                                      "(repeatable)."),
    split: str = typer.Option("80/10/10", help="train/validation/test shares, or 'none'."),
    stratify: str | None = typer.Option(None, help="'label' (the first question) or a question."),
    group: str | None = typer.Option(None, help="exact, or near-duplicates[:method]: a group never "
                                     "straddles two splits."),
    seed: int = typer.Option(0, help="The splits' seed: the same seed, the same splits."),
) -> None:
    """Write an immutable, content-addressed release with its dataset card."""
    from labelloop.cli.common import OPERATOR
    from labelloop.services.curation import releases
    from labelloop.services.curation.splits import parse_ratios

    with runtime() as rt:
        ratios = None if split.lower() == "none" else parse_ratios(split)
        pid = project_id(rt, project)
        made = releases.create_release(
            rt.db, rt.blobs, OPERATOR, pid, name,
            slice=_slice(rt, pid, filters) if filters else None,
            split=ratios, stratify=stratify, group_by=group, seed=seed)
        info = read(rt, releases.get_release, project_id(rt, project), name, rt.blobs)
    table(f"Release {name}: {made['item_count']} items", ["file", "sha256", "bytes"],
          [[f["name"], f["sha256"], f["size"]] for f in info["files"]])
    console.print(f"manifest {made['manifest_sha256']}")


def diff_command(
    project: str = typer.Argument(..., help="Project id or name."),
    old: str = typer.Argument(..., help="The earlier release."),
    new: str = typer.Argument(..., help="The later release."),
    limit: int = typer.Option(20, help="Items listed per kind of change."),
) -> None:
    """Items added, removed and relabelled between two releases."""
    from labelloop.services.curation import releases

    with runtime() as rt:
        d = read(rt, releases.diff_releases, project_id(rt, project), old, new, rt.blobs, limit=limit)
    c = d["counts"]
    console.print(f"{old} -> {new}: {c['added']} added, {c['removed']} removed, {c['relabelled']} relabelled")
    for kind in ("added", "removed"):
        for ext in d[kind]:
            console.print(f"  {'+' if kind == 'added' else '-'} {ext}", highlight=False)
    for r in d["relabelled"]:
        console.print(f"  ~ {r['external_id']}: {r['from']} -> {r['to']}", highlight=False)


def export_hf_command(
    project: str = typer.Argument(..., help="Project id or name."),
    name: str = typer.Argument(..., help="The release."),
    folder: Path = typer.Argument(..., help="A new folder for `datasets.load_from_disk`."),
) -> None:
    """Write a release as a Hugging Face `datasets` folder (a DatasetDict of its splits)."""
    from labelloop.services.curation import releases

    with runtime() as rt:
        splits = read(rt, releases.export_hf, project_id(rt, project), name, rt.blobs, folder)
    console.print(f"wrote {folder} ({', '.join(splits)})")


dataset_app.command("release")(release_command)
dataset_app.command("diff")(diff_command)
dataset_app.command("export-hf")(export_hf_command)
dataset_app.command("duplicates")(duplicates_command)
