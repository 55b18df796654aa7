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
from labelloop.services.privacy.findings import SCAN_KEY, findings_for, scan_keys, stored_findings
from labelloop.services.privacy.redaction import ItemRedaction, redact_item

__all__ = [
    "ItemRedaction",
    "Revealed",
    "hiding",
    "item_redaction",
    "redaction",
    "reveal_item",
    "shown_meta",
    "shown_prelabel",
    "viewer_redactions",
    "worker_redaction",
]
from labelloop.services.privacy.settings import PrivacySettings, privacy_settings
from labelloop.services.privacy.texts import item_texts
from labelloop.services.projects import schema_of
from labelloop.store.models import items, published_in

_ITEM = select(items.c.data, items.c.meta, SCAN_KEY).where(items.c.id == bindparam("iid"))


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
) -> ItemRedaction:
    found = findings_for(conn, settings, schema.fields, item_id, data, scanned_with, meta)
    return redact_item(schema, data, item_texts(schema.fields, data, meta), found, settings.annotators, meta)


def item_redaction(conn: Connection, project: Any, schema: LabelSchema, item_id: int) -> ItemRedaction | None:
    """The item as the project's policy shows it, read here; None when the policy hides nothing."""
    settings = hiding(project)
    if settings is None:
        return None
    row = conn.execute(_ITEM, {"iid": item_id}).first()
    if row is None:
        return None
    return redaction(conn, settings, schema, item_id, row.data, row.pii_scan, row.meta)


def shown_meta(schema: LabelSchema, red: ItemRedaction, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The item's metadata as shown: its strings redacted, an imported pre-label's spans on the
    shown text."""
    out = dict(red.meta)  # the redaction was made with the item's metadata (`meta`, as stored)
    if isinstance(out.get("prelabel"), dict):
        out["prelabel"] = red.answer_to_shown(schema, out["prelabel"])
    return out


def shown_prelabel(schema: LabelSchema, red: ItemRedaction | None, prelabel: dict[str, Any] | None
                   ) -> dict[str, Any] | None:
    if red is None or prelabel is None or not red.maps:
        return prelabel
    return {**prelabel, "value": red.answer_to_shown(schema, prelabel.get("value"))}


def worker_redaction(conn: Connection, project: Any, schema: LabelSchema, item_id: int
                     ) -> ItemRedaction | None:
    """The item as the workbench and the item views showed it, when that moved offsets
    (placeholders), else None: what a submitted answer's, a reviewer's decision's or a gold
    answer's spans are moved back through, and the stored answer forward."""
    settings = hiding(project)
    if settings is None or settings.annotators != "placeholders":
        return None
    red = item_redaction(conn, project, schema, item_id)
    return red if red is not None and red.maps else None


# The item views: reviewers and up.

def viewer_redactions(
    conn: Connection, acc: ProjectAccess, actor: Actor, rows: list[Any]
) -> dict[int, ItemRedaction] | None:
    """Per item row (with `id` and `data`), how the item views show it; None when they show the
    original. Scan keys and stored findings are read in one query each for the page."""
    settings = hiding(acc.project)
    if settings is None or not rows:
        return None
    schema = schema_of(acc.project.label_schema)
    keys = scan_keys(conn, [r.id for r in rows])
    stored = stored_findings(conn, [i for i, k in keys.items() if k == settings.scan_key])
    out = {}
    for r in rows:
        found = stored[r.id] if r.id in stored else findings_for(
            conn, settings, schema.fields, r.id, r.data, keys[r.id], r.meta)
        out[r.id] = redact_item(schema, r.data, item_texts(schema.fields, r.data, r.meta), found,
                                settings.annotators, r.meta)
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
    row = conn.execute(select(items.c.data, items.c.meta, SCAN_KEY)
                       .where(items.c.id == item_id, published_in(project_id))).first()
    if row is None:
        raise NotFound(f"item {item_id} not found in project {project_id}")
    schema = schema_of(acc.project.label_schema)
    legend: dict[str, str] = {}
    fields: list[str] = []
    if settings.enabled:
        found = findings_for(conn, settings, schema.fields, item_id, row.data, row.pii_scan, row.meta)
        fields = [p for p, _ in item_texts(schema.fields, row.data, row.meta) if found.get(p)]
        legend = redact_item(schema, row.data, item_texts(schema.fields, row.data, row.meta), found,
                             "placeholders").legend if settings.annotators == "placeholders" else {}
    audit.record(conn, actor, "item.reveal", project_id=project_id, object_type="item", object_id=item_id,
                 details={"fields": fields})
    return Revealed(item_id, row.data, fields, legend)


def actor_may_reveal(acc: ProjectAccess, actor: Actor) -> bool:
    return may_reveal(acc, actor, Role[privacy_settings(acc.project.privacy_settings).reveal])
