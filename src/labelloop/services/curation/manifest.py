"""What a release says of each item: its final label, how that label was decided, and by whom.

The final label of an item is, in this order: its gold answer; a reviewer's decision; the model's
auto-label (with the lower confidence bound the loop certified its policy at); the consensus of
its annotators (with the method and its confidence). Items with none of these are unlabelled and
left out of a release. Annotators appear under pseudonyms: HMAC-SHA256 of their user id with the
project's release key (`release_keys`), the same in every release of the project and meaningless
without the key.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, Text, cast, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.services.items import ItemFilter, _filtered
from labelloop.services.loop.rounds import AUTO
from labelloop.services.quality.consensus import REVIEW
from labelloop.store.models import (
    answers,
    consensus,
    item_data_text,
    items,
    model_versions,
    published_in,
    release_keys,
)

GOLD, REVIEWED, AUTO_LABEL, CONSENSUS = "gold", "review", "auto-label", "consensus"
DECIDED_BY = (GOLD, REVIEWED, AUTO_LABEL, CONSENSUS)
CHUNK = 20_000
NOT_STATED = "not stated"  # an item whose import gave no `meta.license`


def label_text(value: Any) -> str:
    """A label as canonical JSON text (sorted keys): equal labels, equal text."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass
class Collected:
    """The release's items in id order, column by column, and what the card counts besides."""

    item_ids: list[int] = field(default_factory=list)
    external_id: list[str] = field(default_factory=list)
    content_hash: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)  # the item's fields as JSON text
    values: list[dict[str, Any]] = field(default_factory=list)  # the final label
    label: list[str] = field(default_factory=list)
    decided_by: list[str] = field(default_factory=list)
    method: list[str | None] = field(default_factory=list)
    confidence: list[float | None] = field(default_factory=list)
    autolabel_bound: list[float | None] = field(default_factory=list)
    model_version: list[int | None] = field(default_factory=list)
    annotators: list[list[str]] = field(default_factory=list)
    reviewer: list[str | None] = field(default_factory=list)
    label_issues: list[dict[str, Any]] = field(default_factory=list)  # open label-error flags
    unlabelled: int = 0
    answers_by: Counter[str] = field(default_factory=Counter)  # pseudonym -> answers in the release
    licenses: Counter[str] = field(default_factory=Counter)  # the items' `meta.license` -> items

    def columns(self, splits: list[str]) -> dict[str, list[Any]]:
        """The manifest's table: one row per item."""
        return {
            "external_id": self.external_id, "content_hash": self.content_hash, "split": splits,
            "label": self.label, "decided_by": self.decided_by, "method": self.method,
            "confidence": self.confidence, "autolabel_bound": self.autolabel_bound,
            "model_version": self.model_version, "annotators": self.annotators,
            "reviewer": self.reviewer,
        }


def release_key(conn: Connection, project_id: int) -> bytes:
    """The project's pseudonym key, made on its first release."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    # Two first releases at once: one key wins, both read it.
    conn.execute(insert(release_keys).values(project_id=project_id, key=secrets.token_hex(32))
                 .on_conflict_do_nothing(index_elements=["project_id"]))
    key = conn.execute(select(release_keys.c.key).where(release_keys.c.project_id == project_id)).scalar_one()
    return bytes.fromhex(key)


def pseudonym(key: bytes, user_id: int) -> str:
    return "a-" + hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()[:16]


def _bounds(conn: Connection, project_id: int) -> tuple[list[Any], list[tuple[int, float | None]]]:
    """Model versions that auto-labelled, by time: (created_at list, (version id, lower bound))."""
    rows = conn.execute(select(model_versions.c.id, model_versions.c.created_at, model_versions.c.metrics)
                        .where(model_versions.c.project_id == project_id)
                        .order_by(model_versions.c.created_at, model_versions.c.id)).all()
    certified = [r for r in rows if (r.metrics or {}).get("autolabelled")]
    return ([r.created_at for r in certified],
            [(r.id, r.metrics.get("autolabel_lower_bound")) for r in certified])


def _who(conn: Connection, project_id: int, key: bytes
         ) -> tuple[dict[int, list[str]], dict[int, str]]:
    """Item id -> its annotators' pseudonyms (sorted), and -> the pseudonym of its last reviewer."""
    by_item: dict[int, set[str]] = defaultdict(set)
    reviewer: dict[int, str] = {}
    names: dict[int, str] = {}
    rows = conn.execute(select(answers.c.item_id, answers.c.user_id, answers.c.source)
                        .where(answers.c.project_id == project_id).order_by(answers.c.id))
    for item_id, user_id, source in rows:
        name = names.get(user_id) or names.setdefault(user_id, pseudonym(key, user_id))
        if source == "human":
            by_item[item_id].add(name)
        elif source == REVIEW:
            reviewer[item_id] = name
    return {i: sorted(s) for i, s in by_item.items()}, reviewer


def _auto_times(conn: Connection, project_id: int) -> dict[int, Any]:
    """When each auto-labelled item was settled (to find the model version that did it)."""
    return {r.item_id: r.updated_at for r in conn.execute(select(consensus.c.item_id, consensus.c.updated_at)
            .where(consensus.c.project_id == project_id, consensus.c.method == AUTO))}


def _license(meta: str | None) -> str:
    """An item's source licence, as its import gave it in `meta.license` (parsed only when there)."""
    if meta is None or '"license"' not in meta:
        return NOT_STATED
    value = orjson.loads(meta).get("license")
    return NOT_STATED if value in (None, "") else str(value)


def collect(conn: Connection, project_id: int, key: bytes, where: ItemFilter | None = None) -> Collected:
    """Every labelled item of the project (of the slice `where`), with its label's provenance.

    Labels are read as JSON text and parsed here (a million rows: the database driver's per-row
    JSON and date handling would be most of a release's time)."""
    times, versions = _bounds(conn, project_id)
    auto_at = _auto_times(conn, project_id) if versions else {}
    annotated, reviewed = _who(conn, project_id, key)
    stmt = (select(items.c.id, items.c.external_id, items.c.content_hash, item_data_text(),
                   cast(items.c.gold, Text), items.c.label_issue, cast(consensus.c.value, Text),
                   consensus.c.confidence, consensus.c.method, consensus.c.final, cast(items.c.meta, Text))
            .select_from(items.outerjoin(consensus, consensus.c.item_id == items.c.id))
            .where(published_in(project_id)).order_by(items.c.id))
    if where is not None:
        stmt = _filtered(stmt, where)
    out = Collected()
    add_id, add_ext, add_hash = out.item_ids.append, out.external_id.append, out.content_hash.append
    add_data, add_value, add_label = out.data.append, out.values.append, out.label.append
    add_by, add_method, add_conf = out.decided_by.append, out.method.append, out.confidence.append
    add_bound, add_version = out.autolabel_bound.append, out.model_version.append
    no_version = (None, None)
    for chunk in conn.execute(stmt.execution_options(yield_per=CHUNK)).partitions():
        for iid, ext, digest, data, gold, issue, value, conf, method, final, meta in chunk:
            version, bound = no_version
            if gold is not None and gold != "null":
                text, decided, method, conf = gold, GOLD, None, None
            elif value is None:
                out.unlabelled += 1
                continue
            elif final or method == REVIEW:
                text, decided = value, REVIEWED
            elif method == AUTO:
                text, decided = value, AUTO_LABEL
                at = bisect.bisect_right(times, auto_at.get(iid)) - 1 if iid in auto_at else -1
                if at >= 0:
                    version, bound = versions[at]
            else:
                text, decided = value, CONSENSUS
            parsed = orjson.loads(text)
            add_id(iid)
            add_ext(ext)
            add_hash(digest)
            add_data(data)
            add_value(parsed)
            add_label(orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS).decode())
            add_by(decided)
            add_method(method)
            add_conf(conf)
            add_bound(bound)
            add_version(version)
            out.licenses[_license(meta)] += 1
            if issue is not None:
                out.label_issues.append({"external_id": ext, "reasons": issue.split(",")})
    out.annotators = [annotated.get(i, []) for i in out.item_ids] if annotated else [[]] * len(out.item_ids)
    out.reviewer = [reviewed.get(i) for i in out.item_ids] if reviewed else [None] * len(out.item_ids)
    for who in (out.annotators if annotated else ()):
        out.answers_by.update(who)
    return out
