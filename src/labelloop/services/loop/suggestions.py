"""Model suggestions: which model may suggest, and what an answer did with the suggestion shown.

Annotators see the predictions of the project's *latest model* (the newest model version that
made predictions), and only while its held-out accuracy passes the project's bar
(`suggest_min_accuracy`): a model that is often wrong would teach people its mistakes. An
item's imported pre-label (`meta.prelabel`) is the other kind of suggestion, shown by the page
when no model suggests. On an image project a version may answer both a choice question (a
round's classifier) and a `bbox` question (a detector's pre-labels): each new version carries the
other's answers, and the bar is compared with the lower of their held-out scores
(services/loop/versions.py).

How an answer relates to its suggestion is decided by the server, not taken from the client:
the client says which suggestion it showed (a model version, or "import"), and each question's
answer is compared with that suggestion's value. So a client cannot pass an edited answer off
as the model's, or the model's as its own, and a round that finishes between showing a
suggestion and submitting the answer changes nothing (predictions are kept per version).
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from sqlalchemy import Connection, bindparam, exists, select

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema
from labelloop.schema.label_type import ValueProblem
from labelloop.schema.types.shapes.objects import ShapeType
from labelloop.services.loop.settings import LoopSettings
from labelloop.services.loop.versions import held_out
from labelloop.store.models import items, model_versions, predictions

IMPORT: Final = "import"
# Per question: the answer is the suggestion's value, differs from it, or there was none.
UNCHANGED, EDITED, NONE = "unchanged", "edited", "none"

# What the bar is compared with (versions.held_out): out-of-fold accuracy when the model gave
# out-of-fold predictions, else its accuracy on gold items (never trained on), and a detector's F1
# against gold and human consensus; for a version that carries another's part, the lowest. Only
# these few numbers are read, not the whole metrics document: this runs with every next task.
_M = model_versions.c.metrics
_SCORES = {
    "oof_accuracy": _M["oof_accuracy"].as_float(),
    "gold_accuracy": _M["gold_accuracy"].as_float(),
    "model": _M["model"].as_string(),
    "detector": _M[("detector", "name")].as_string(),
    "box_f1": _M["box_f1"].as_float(),
    "transcriber": _M[("transcriber", "name")].as_string(),
    "speech_score": _M["speech_score"].as_float(),
}
_NAMED = ("detector", "transcriber")  # parts whose marker is their config's name
_CARRIED = {k: _M[("carried", *((k, "name") if k in _NAMED else (k,)))] for k in _SCORES}
_CARRIED_SCORES = {k: (c.as_string() if k in ("model", *_NAMED) else c.as_float())
                   for k, c in _CARRIED.items()}
# A cold-start round makes a model version without predictions: it is not a model to suggest.
_LATEST_MODEL = (
    select(model_versions.c.id, *(c.label(k) for k, c in _SCORES.items()),
           *(c.label("carried_" + k) for k, c in _CARRIED_SCORES.items()))
    .where(
        model_versions.c.project_id == bindparam("pid"),
        exists().where(predictions.c.model_version_id == model_versions.c.id),
    )
    .order_by(model_versions.c.id.desc())
    .limit(1)
)
_PREDICTION = select(predictions.c.value, predictions.c.confidence).where(
    predictions.c.model_version_id == bindparam("mv"), predictions.c.item_id == bindparam("iid")
)
_META = select(items.c.meta).where(items.c.id == bindparam("iid"))


def suggesting_model(conn: Connection, project_id: int, settings: LoopSettings) -> int | None:
    """The model version whose predictions annotators may see; None when there is none to show."""
    if settings.prelabels == "off":
        return None
    row = conn.execute(_LATEST_MODEL, {"pid": project_id}).first()
    if row is None:
        return None
    bar = settings.suggest_min_accuracy
    if bar is not None:
        accuracy = held_out(_scores(row))
        if accuracy is None or accuracy < bar:
            return None
    return int(row.id)


def _scores(row: Any) -> dict[str, Any]:
    """The version's metrics as far as `held_out` reads them, from `_LATEST_MODEL`'s columns."""
    m = row._mapping
    own = {k: m[k] for k in _SCORES if m[k] is not None}
    carried = {k: m["carried_" + k] for k in _SCORES if m["carried_" + k] is not None}
    return {**own, **({"carried": carried} if carried else {})}


def prelabel(value: Any, confidence: float, model_version: int) -> dict[str, Any]:
    """A model's suggestion as a task carries it."""
    return {"value": value, "confidence": confidence, "model_version": model_version}


def prediction(conn: Connection, model_version: int, item_id: int) -> dict[str, Any] | None:
    """That model's suggestion for the item, or None when it made none."""
    row = conn.execute(_PREDICTION, {"mv": model_version, "iid": item_id}).first()
    return None if row is None else prelabel(row.value, row.confidence, model_version)


def suggestion_record(
    conn: Connection,
    schema: LabelSchema,
    settings: LoopSettings,
    item_id: int,
    shown: int | str | None,
    answer: dict[str, Any],
) -> dict[str, Any] | None:
    """What the answer did with the suggestion shown with it (None: none was shown).

    `{"from": "model" | "import", "model_version": id | None, "preselected": bool,
    "questions": {question: "unchanged" | "edited" | "none"}}`. One indexed lookup.
    """
    if shown is None:
        return None
    if shown == IMPORT:
        meta = conn.execute(_META, {"iid": item_id}).scalar()
        value = meta.get("prelabel") if isinstance(meta, dict) else None
        if not isinstance(value, dict):
            raise _refused(f"item {item_id} has no imported pre-label (meta.prelabel)")
        source, version = IMPORT, None
    elif isinstance(shown, int) and not isinstance(shown, bool):
        found = prediction(conn, shown, item_id)
        if found is None:
            raise _refused(f"model version {shown} made no suggestion for item {item_id}")
        value, source, version = found["value"], "model", shown
    else:
        raise _refused('a model version id, "import", or null')
    return {
        "from": source,
        "model_version": version,
        # A pre-filled suggestion that stays unchanged says less than one applied on purpose.
        "preselected": settings.preselect,
        "questions": compare(schema, value, answer),
    }


def compare(schema: LabelSchema, suggested: dict[str, Any], answer: dict[str, Any]) -> dict[str, str]:
    """Per question: whether the (canonical) answer is the suggestion's value.

    Shape questions (boxes, polygons, masks, keypoints) compare their lists of objects after
    canonicalisation: the same objects, each with the same class, shape and attributes, in any
    order, numbers compared by value (2 and 2.0 are one coordinate). A box nudged by a quarter
    pixel is an edit; a list the annotator only reordered is not.
    """
    out: dict[str, str] = {}
    for q in schema.questions:
        raw = suggested.get(q.name)
        if raw is None:
            out[q.name] = NONE
            continue
        try:  # the suggestion in the answer's canonical form (an imported one may not fit)
            canonical = q.kind.validate(q.spec, raw)
        except ValueProblem:
            canonical = raw
        given = answer.get(q.name)
        if isinstance(q.kind, ShapeType):
            same = given is not None and shape_list_key(given) == shape_list_key(canonical)
        else:
            same = given == canonical
        out[q.name] = UNCHANGED if same else EDITED
    return out


def shape_list_key(objects: Any) -> list[bytes]:
    """A list of shape objects as a sorted list of canonical JSON texts (order-free, 2 == 2.0)."""
    if not isinstance(objects, list):
        return [orjson.dumps(_floats(objects), option=orjson.OPT_SORT_KEYS)]
    return sorted(orjson.dumps(_floats(o), option=orjson.OPT_SORT_KEYS) for o in objects)


def _floats(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return [_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    return value


def _refused(message: str) -> Invalid:
    return Invalid("invalid suggestion", [Problem(message, field="suggestion_version")])
