"""What image and audio dataset exports share: the checks of a plan's source and files and of its
question, per-item values from the plan's source, unique file names in the archive, and one pass
over the project's media items in item order.

Both exports answer one question per item from one source (the consensus, the gold answer, or
every annotator's latest answer) and name each stored file in the archive the same way; only the
blob facts they need (an image's size, an audio file's duration) and the reasons they skip an item
differ, so those stay with images/pictures.py and audio/plan.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import orjson
from sqlalchemy import Connection, Select

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema, Question
from labelloop.services.exporting.chunks import ItemChunk, item_chunks
from labelloop.services.importing.names import is_junk, unsafe_name
from labelloop.services.items import ItemFilter
from labelloop.services.targets import blob_hash

SOURCES = ("consensus", "gold", "answers")
FILES = ("include", "refs")  # the media files go in the archive, or references.csv instead
MAX_NAME = 255

# (annotator, value) pairs; the annotator is None but for the "answers" source.
Values = list[tuple[str | None, Any]]


@dataclass(frozen=True)
class Skipped:
    external_id: str
    reason: str


@dataclass(frozen=True)
class ArchivedFile:
    """One exported media file: what the image and audio records (Picture, Clip) begin with."""

    index: int  # 1-based, in item order
    external_id: str
    name: str  # in the archive (ArchiveNames)
    reference: str
    sha256: str
    media_type: str


@dataclass(frozen=True)
class MediaItem:
    """An item with a value from the source: its row, media reference, stored hash and blob facts."""

    row: Any
    reference: Any  # the item's media field: a blob reference, a URL, or None
    sha256: str | None  # None unless the reference is a stored blob
    blob: Any  # the lookup's row for sha256; None when it found none
    values: Values


def check_choices(source: str, files: str, files_title: str) -> None:
    """Invalid unless the source and the choice for the files (`images`, as the API names it) are known."""
    if source not in SOURCES:
        raise Invalid("unknown source", [Problem(f"{source!r}; known: {', '.join(SOURCES)}", field="source")])
    if files not in FILES:
        raise Invalid(files_title, [Problem(f"{files!r}; known: {', '.join(FILES)}", field="images")])


def only_question(fitting: list[Question], none: str) -> Question:
    """The one question the format can hold; Invalid saying why none fits (`none`), or naming them."""
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        raise Invalid("no question the format can hold", [Problem(none, field="question")])
    names = ", ".join(q.name for q in fitting)
    raise Invalid("say which question", [Problem(f"the schema has several ({names}); choose one",
                                                 field="question")])


def kind_question(schema: LabelSchema, name: str | None, kind: str, format_name: str, holds: str) -> Question:
    """The question *name*, which must be a *kind* question, or the schema's only *kind* question;
    Invalid naming the choices (*format_name* holds *holds*: "the tracks of a video_tracks question")."""
    fitting = [q for q in schema.questions if q.kind.name == kind]
    if name is not None:
        found = [q for q in schema.questions if q.name == name]
        if not found:
            known = ", ".join(q.name for q in fitting) or "none"
            raise Invalid("no such question", [Problem(f"{name!r}; {kind} questions: {known}",
                                                       field="question")])
        if found[0].kind.name != kind:
            raise Invalid("the format cannot hold this question", [Problem(
                f"{name!r} is a {found[0].kind.name} question; {format_name} holds {kind}",
                field="question")])
        return found[0]
    return only_question(fitting, f"{format_name} holds {holds}; the schema has none")


def source_answers(source: str, question: str, chunk: ItemChunk, row: Any) -> Values | None:
    """The question's answers on one item from the source, a whole answer each (``(annotator,
    answer)``, annotator None but for "answers"); None when it has none.

    For "answers", every annotator's latest answer: revisions replace what they correct."""
    if source == "gold":
        value = orjson.loads(row.gold).get(question) if row.gold else None
        return None if value is None else [(None, value)]
    if source == "consensus":
        c = chunk.consensus.get(row.id)
        value = orjson.loads(c.value).get(question) if c is not None else None
        return None if value is None else [(None, value)]
    given = chunk.answers.get(row.id, [])
    replaced = {a.supersedes_id for a in given}
    latest = [(a.username, orjson.loads(a.value).get(question)) for a in given if a.id not in replaced]
    latest = [(who, v) for who, v in latest if v is not None]
    return latest or None


def source_values(source: str, question: str, chunk: ItemChunk, row: Any) -> Values | None:
    """The question's values (shapes, segments) on one item from the source, each answer's list
    flattened (see :func:`source_answers`); None when it has none."""
    answers = source_answers(source, question, chunk, row)
    return None if answers is None else [(who, x) for who, v in answers for x in v]


def media_items(
    conn: Connection, project_id: int, *, source: str, question: str, field: str,
    lookup: Callable[[list[str]], Select[Any]], where: ItemFilter | None = None,
) -> Iterator[MediaItem]:
    """The items with a value from the source, in item order, with their blobs looked up a chunk
    at a time by `lookup`'s query of the given hashes (its rows have `sha256`; one pass over the
    project, or of the items of a saved slice's filter `where`; run again for another)."""
    def find(conn: Connection, hashes: list[str]) -> dict[str, Any]:
        return {r.sha256: r for r in conn.execute(lookup(hashes))}

    return found_items(conn, project_id, source=source, question=question, field=field, find=find,
                       where=where)


def found_items(
    conn: Connection, project_id: int, *, source: str, question: str, field: str,
    find: Callable[[Connection, list[str]], Mapping[str, Any]], whole_answers: bool = False,
    where: ItemFilter | None = None,
) -> Iterator[MediaItem]:
    """As :func:`media_items`, with the blobs of a chunk's hashes found by `find` ({sha256: facts});
    `whole_answers`: each value a whole answer (:func:`source_answers`), not its parts."""
    values_of = source_answers if whole_answers else source_values
    for chunk in item_chunks(conn, project_id, with_answers=source == "answers", where=where):
        found: list[tuple[Any, Any, Values]] = []
        for row in chunk.items:
            values = values_of(source, question, chunk, row)
            if values is not None:
                found.append((row, orjson.loads(row.data).get(field), values))
        hashes = sorted({h for _, ref, _ in found if (h := blob_hash(ref)) is not None})
        looked_up = find(conn, hashes) if hashes else {}
        for row, ref, values in found:
            sha = blob_hash(ref)
            yield MediaItem(row, ref, sha, looked_up.get(sha) if sha is not None else None, values)


def stem(name: str) -> str:
    """The name without its suffix: what label, subtitle and RTTM files are named after."""
    return str(PurePosixPath(name).with_suffix(""))


class ArchiveNames:
    """Unique names in the archive, as files are met in item order. Remembers an 8-byte digest
    per name (not the name), the one thing kept per file.

    The item's id when that is a plain relative path with one of `kept` suffixes, the id with the
    suffix of its media type added when it has none, else `item-<id>` with the suffix; names equal
    but for case or suffix get `~<item id>` before the suffix of the later one."""

    def __init__(self, suffixes: Mapping[str, str], fallback: str, kept: Collection[str]) -> None:
        self.suffixes, self.fallback, self.kept = suffixes, fallback, kept
        self.seen: set[bytes] = set()

    def _key(self, name: str) -> bytes:
        return hashlib.blake2b(stem(name).casefold().encode(), digest_size=8).digest()

    def __call__(self, item_id: int, external_id: str, media_type: str) -> str:
        suffix = self.suffixes.get(media_type, self.fallback)
        plain = len(external_id) <= MAX_NAME - 20 and unsafe_name(external_id) is None \
            and not is_junk(external_id)
        if plain and PurePosixPath(external_id).suffix.lower() in self.kept:
            name = external_id
        elif plain:
            name = external_id + suffix
        else:
            name = f"item-{item_id}{suffix}"
        path = PurePosixPath(name)
        n = 1
        while self._key(name) in self.seen:
            name = str(path.with_name(f"{path.stem}~{item_id}{'' if n == 1 else f'~{n}'}{path.suffix}"))
            n += 1
        self.seen.add(self._key(name))
        return name
