"""Reading and changing a project's privacy policy, and what its scans found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, update

from labelloop.services import audit
from labelloop.services.policy import Action, Actor, access
from labelloop.services.privacy.findings import current_key
from labelloop.services.privacy.scan import counts
from labelloop.services.privacy.settings import check_privacy_settings, ner_available, privacy_settings
from labelloop.services.privacy.view import actor_may_reveal
from labelloop.services.projects import schema_of
from labelloop.store.models import projects


@dataclass(frozen=True)
class PrivacyView:
    settings: dict[str, Any]  # every key, defaults filled in
    may_reveal: bool  # whether the caller may reveal items' originals
    ner_available: bool  # whether this server can detect names, places, organisations
    summary: dict[str, Any] | None  # findings per kind and scan progress (managers only)


def get_privacy(conn: Connection, actor: Actor, project_id: int) -> PrivacyView:
    """The policy, for every member (the workbench and the review page show what it implies);
    what the scans found, for managers."""
    acc = access(conn, actor, project_id, Action.view_project)
    settings = privacy_settings(acc.project.privacy_settings)
    summary = None
    if acc.allows(Action.edit_project, actor):
        summary = counts(conn, project_id, current_key(conn, settings, schema_of(acc.project.label_schema),
                                                       project_id))
    return PrivacyView(settings.model_dump(mode="json"), actor_may_reveal(acc, actor), ner_available(),
                       summary)


def set_privacy(conn: Connection, actor: Actor, project_id: int, changes: dict[str, Any]) -> PrivacyView:
    """Change the keys given (others keep their values); the change is logged."""
    acc = access(conn, actor, project_id, Action.edit_project)
    current = privacy_settings(acc.project.privacy_settings).model_dump(mode="json", exclude_defaults=True)
    new = check_privacy_settings({**current, **changes})
    conn.execute(update(projects).where(projects.c.id == project_id)
                 .values(privacy_settings=new.model_dump(mode="json", exclude_defaults=True)))
    audit.record(conn, actor, "privacy.settings", project_id=project_id, object_type="project",
                 object_id=project_id, details={"changes": changes, "enabled": new.enabled})
    return get_privacy(conn, actor, project_id)
