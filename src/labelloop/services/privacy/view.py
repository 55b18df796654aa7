"""Who is shown what: the policy applied wherever item content leaves the server, and reveals.

- Anyone working tasks (the workbench: next task, lease renewal, their own answers) is shown the
  project's annotator view (`annotators`: placeholders or masked), reviewers included: the
  workbench is the same for all.
- The item views (data browser, item detail, review) show reviewers and managers the same
  redacted text; `reveal_item` gives the original to those the policy allows (services/policy.py,
  `may_reveal`), and every reveal is an entry of the audit log (who, which item, which texts).
- Answers move with the text: spans drawn on the shown text are stored on the original, stored
  spans are shown on the shown text (services/privacy/redaction.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select

from labelloop.errors import NotFound
from labelloop.schema import LabelSchema
from labelloop.services import audit
from labelloop.services.policy import Action, Actor, ProjectAccess, Role, access, may_reveal, require_reveal
from labelloop.services.privacy.findings import (
    SCAN_KEY,
    current_key,
    detector,
    findings_for,
    item_key,
    latest_predictions,
    latest_version,
    scan_keys,
    stored_findings,
)
from labelloop.services.privacy.redaction import ItemRedaction, redact_item
from labelloop.services.privacy.transcripts import PREDICTION_PREFIX, PRELABEL_PREFIX, has_transcripts

__all__ = [
    "ItemRedaction",
    "Revealed",
    "hiding",
    "item_redaction",
    "redaction",
    "reveal_item",
    "shown_meta",
    "shown_prelabel",
    "transcripts_shown",
    "viewer_redactions",
    "worker_redaction",
]
from labelloop.services.privacy.settings import PrivacySettings, privacy_settings
from labelloop.services.privacy.texts import PRELABEL, item_texts
from labelloop.services.projects import schema_of
from labelloop.store.models import answers, consensus, items, published_in

_ITEM = select(items.c.data, items.c.meta, items.c.gold, SCAN_KEY).where(items.c.id == bindparam("iid"))


def hiding(project: Any) -> PrivacySettings | None:
    """The project's settings when its policy hides something, else None (the common case: one
    dictionary test on the hot path)."""
    if not project.privacy_settings:
        return None
    settings = privacy_settings(project.privacy_settings)
    return settings if settings.enabled and settings.annotators != "original" else None


def redaction(
    conn: Connection, settings: PrivacySettings, schema: LabelSchema, item_id: int,
    data: Mapping[str, Any], scanned_with: str | None, meta: Mapping[str, Any] | None = None,
    *, project_id: int | None = None, prediction: Any = None, version: int | None = None,
) -> ItemRedaction:
    """The item as the policy shows it, with `prediction` (the latest model version's, `version`)
    when one is shown with it. With transcripts in the schema, stored findings count only when the
    item was scanned with the project's latest model version (`project_id` to read it)."""
    key = settings.scan_key
    if project_id is not None and has_transcripts(schema):
        key = item_key(settings, schema, version if version is not None else latest_version(conn, project_id))
    found = findings_for(conn, settings, schema, item_id, data, scanned_with, meta, key=key,
                         prediction=prediction)
    return redact_item(schema, data, item_texts(schema.fields, data, meta), found, settings.annotators, meta,
                       prediction=prediction, detect=detector(settings))


def item_redaction(conn: Connection, project: Any, schema: LabelSchema, item_id: int) -> ItemRedaction | None:
    """The item as the project's policy shows it, read here (with the latest model version's
    prediction when the schema has transcripts); None when the policy hides nothing."""
    settings = hiding(project)
    if settings is None:
        return None
    row = conn.execute(_ITEM, {"iid": item_id}).first()
    if row is None:
        return None
    version = prediction = None
    if has_transcripts(schema):
        version = latest_version(conn, project.id)
        prediction = latest_predictions(conn, version, [item_id]).get(item_id)
    return redaction(conn, settings, schema, item_id, row.data, row.pii_scan, row.meta, project_id=project.id,
                     prediction=prediction, version=version)


def shown_meta(schema: LabelSchema, red: ItemRedaction, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The item's metadata as shown: its strings redacted, an imported pre-label's transcripts
    redacted and its spans on the shown text."""
    out = dict(red.meta)  # the redaction was made with the item's metadata (`meta`, as stored)
    if isinstance(out.get(PRELABEL), dict):
        out[PRELABEL] = red.value_shown(schema, PRELABEL_PREFIX, out[PRELABEL])
    return out


def shown_prelabel(schema: LabelSchema, red: ItemRedaction | None, prelabel: dict[str, Any] | None
                   ) -> dict[str, Any] | None:
    """A model's suggestion as shown: transcripts redacted (when the redaction read that
    prediction; else detected now), spans on the shown text."""
    if red is None or prelabel is None or (not red.maps and red.transcripts is None):
        return prelabel
    value = prelabel.get("value")
    if PREDICTION_PREFIX in red.values:
        shown = red.value_shown(schema, PREDICTION_PREFIX, value)
    else:
        shown = red.answer_to_shown(schema, value)
    return {**prelabel, "value": shown}


def worker_redaction(conn: Connection, project: Any, schema: LabelSchema, item_id: int
                     ) -> ItemRedaction | None:
    """The item as the workbench and the item views showed it, when that moved offsets
    (placeholders) or hid transcripts, else None: what a submitted answer's, a reviewer's
    decision's or a gold answer's spans and transcripts are moved back through, and the stored
    answer forward."""
    settings = hiding(project)
    if settings is None or (settings.annotators != "placeholders" and not has_transcripts(schema)):
        return None
    red = item_redaction(conn, project, schema, item_id)
    return red if red is not None and (red.maps or red.transcripts is not None) else None


def transcripts_shown(conn: Connection, project: Any, schema: LabelSchema, values: list[tuple[int, Any]]
                      ) -> list[Any]:
    """Answers (item id, value) with their transcripts as the policy shows them and nothing else
    moved (the answers list keeps spans on the original offsets); the values as they are when the
    policy hides nothing or the schema has no transcripts."""
    if hiding(project) is None or not has_transcripts(schema) or not values:
        return [v for _, v in values]
    reds: dict[int, ItemRedaction | None] = {}
    out = []
    for item_id, value in values:
        if item_id not in reds:
            reds[item_id] = item_redaction(conn, project, schema, item_id)
        red = reds[item_id]
        redactor = None if red is None else red.transcripts
        out.append(value if redactor is None else redactor.redact(schema, value))
    return out


# The item views: reviewers and up.

def viewer_redactions(
    conn: Connection, acc: ProjectAccess, actor: Actor, rows: list[Any]
) -> dict[int, ItemRedaction] | None:
    """Per item row (with `id` and `data`), how the item views show it; None when they show the
    original. Scan keys and stored findings are read in one query each for the page. Answers'
    transcripts are redacted as they are shown (`answer_to_shown`, detected then)."""
    settings = hiding(acc.project)
    if settings is None or not rows:
        return None
    schema = schema_of(acc.project.label_schema)
    key = current_key(conn, settings, schema, acc.project.id)
    keys = scan_keys(conn, [r.id for r in rows])
    stored = stored_findings(conn, [i for i, k in keys.items() if k == key])
    detect = detector(settings)
    out = {}
    for r in rows:
        found = stored[r.id] if r.id in stored else findings_for(
            conn, settings, schema, r.id, r.data, keys[r.id], r.meta, key=key)
        out[r.id] = redact_item(schema, r.data, item_texts(schema.fields, r.data, r.meta), found,
                                settings.annotators, r.meta, detect=detect)
    return out


@dataclass(frozen=True)
class Revealed:
    item_id: int
    data: dict[str, Any]
    fields: list[str]  # the texts that held personal data
    legend: dict[str, str]  # placeholder -> original, so the reviewer can read the shown answers


def reveal_item(conn: Connection, actor: Actor, project_id: int, item_id: int) -> Revealed:
    """The item's original content, for those the policy lets reveal; the reveal is logged."""
    acc = access(conn, actor, project_id, Action.view_items)
    settings = privacy_settings(acc.project.privacy_settings)
    require_reveal(acc, actor, Role[settings.reveal])
    row = conn.execute(select(items.c.data, items.c.meta, items.c.gold, items.c.label_issue,
                              items.c.label_issue_answer, SCAN_KEY)
                       .where(items.c.id == item_id, published_in(project_id))).first()
    if row is None:
        raise NotFound(f"item {item_id} not found in project {project_id}")
    schema = schema_of(acc.project.label_schema)
    legend: dict[str, str] = {}
    fields: list[str] = []
    if settings.enabled:
        key = current_key(conn, settings, schema, project_id)
        found = findings_for(conn, settings, schema, item_id, row.data, row.pii_scan, row.meta, key=key)
        fields = [p for p, _ in item_texts(schema.fields, row.data, row.meta) if found.get(p)]
        red = redact_item(schema, row.data, item_texts(schema.fields, row.data, row.meta), found,
                          "placeholders", row.meta, detect=detector(settings))
        if red.transcripts is not None:  # the answers' transcripts, numbered as the item views number them
            issue = row.label_issue_answer if row.label_issue is not None else None
            fields += _transcripts_shown(conn, schema, red, item_id,
                                         [("label_issue", issue), ("gold", row.gold)])
        legend = red.legend if settings.annotators == "placeholders" else {}
    audit.record(conn, actor, "item.reveal", project_id=project_id, object_type="item", object_id=item_id,
                 details={"fields": fields})
    return Revealed(item_id, row.data, fields, legend)


def _transcripts_shown(conn: Connection, schema: LabelSchema, red: ItemRedaction, item_id: int,
                       first: list[tuple[str, Any]]) -> list[str]:
    """Redact the item's imported pre-label, a flagged label's model answer, gold, consensus and
    answers in id order (the item page's order, services/items.py: so its placeholders are numbered
    alike) so that `red.legend` holds every placeholder the page shows; the ones that held personal
    data, named `prelabel`, `label_issue`, `gold`, `consensus`, `answer/<id>`."""
    held = ["prelabel"] if red.transcripts is not None and red.transcripts.hidden else []
    values = list(first)
    values += [("consensus", v) for v in conn.execute(
        select(consensus.c.value).where(consensus.c.item_id == item_id)).scalars()]
    values += [(f"answer/{i}", v) for i, v in conn.execute(
        select(answers.c.id, answers.c.value).where(answers.c.item_id == item_id).order_by(answers.c.id))]
    for name, value in values:
        if value is not None and red.answer_to_shown(schema, value) != value:
            held.append(name)
    return list(dict.fromkeys(held))


def actor_may_reveal(acc: ProjectAccess, actor: Actor) -> bool:
    return may_reveal(acc, actor, Role[privacy_settings(acc.project.privacy_settings).reveal])
