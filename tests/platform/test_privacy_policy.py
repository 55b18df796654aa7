"""Personal data on the platform: annotators get placeholders, answers stay on the original, reviewers
reveal with a trace, exports choose, scans count (docs/privacy.md, "On the platform")."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from labelloop.cli.main import app
from labelloop.config import get_settings
from labelloop.privacy import detect
from labelloop.schema import parse_schema
from labelloop.services.privacy.findings import value_hash
from labelloop.services.privacy.redaction import redact_item
from labelloop.services.privacy.texts import item_texts
from labelloop.store.models import answers, audit_log, consensus, item_pii, items
from tests.platform.world import User, World

SPANS_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "ents", "type": "spans", "target": "text", "labels": ["WHO", "MISC"]}],
}
EMAIL = "jean.dupont@example.fr"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
TEXT = f"Write to {EMAIL} about the invoice; pay IBAN {IBAN} by Friday. Again: {EMAIL}."
SECRETS = (EMAIL, IBAN, "jean.dupont", "3000 6000 0112")


def setup(world: World, *, policy: dict[str, Any] | None = None, text: str = TEXT,
          schema: dict[str, Any] | None = None) -> tuple[User, User, User, int]:
    owner, annotator, reviewer = world.user(), world.user(), world.user()
    pid = world.project(owner, schema=schema or SPANS_SCHEMA,
                        members={"annotator": (annotator,), "reviewer": (reviewer,)})
    if policy is not None:
        r = world.client.patch(f"/api/projects/{pid}/privacy", json=policy, headers=owner.headers)
        assert r.status_code == 200, r.text
    world.import_records(owner, pid, [{"id": "a", "text": text}])
    return owner, annotator, reviewer, pid


def scan(world: World, owner: User, pid: int, **params: Any) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/privacy/scan", params={"wait": "true", **params},
                          headers=owner.headers)
    assert r.status_code == 200, r.text
    job: dict[str, Any] = r.json()
    assert job["status"] == "succeeded", job
    return job


def audit_entries(world: World, action: str) -> list[Any]:
    with world.runtime.db.read() as conn:
        return conn.execute(select(audit_log).where(audit_log.c.action == action)
                            .order_by(audit_log.c.seq)).all()


def test_policy_is_off_by_default_and_then_nothing_changes(world: World) -> None:
    owner, annotator, _, pid = setup(world)
    r = world.client.get(f"/api/projects/{pid}/privacy", headers=annotator.headers)
    assert r.status_code == 200 and r.json()["settings"]["enabled"] is False
    assert r.json()["may_reveal"] is False
    task = world.next(annotator, pid).json()
    assert task["data"]["text"] == TEXT
    # A scan of a project whose policy is off is refused, naming the setting.
    r = world.client.post(f"/api/projects/{pid}/privacy/scan", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 422 and "privacy.enabled" in r.text


def test_bad_policy_is_refused_naming_the_key_and_changes_nothing(world: World) -> None:
    owner, _, _, pid = setup(world)
    for body, field in (({"kinds": ["email", "passport"]}, "privacy.kinds"),
                        ({"regions": ["XX"]}, "privacy.regions"),
                        ({"annotators": "blurred"}, "privacy.annotators")):
        r = world.client.patch(f"/api/projects/{pid}/privacy", json=body, headers=owner.headers)
        assert r.status_code == 422, r.text
        assert field in r.text
    assert world.client.get(f"/api/projects/{pid}/privacy", headers=owner.headers).json()["settings"][
        "enabled"] is False


def test_annotator_task_shows_placeholders_never_the_values(world: World) -> None:
    owner, annotator, _, pid = setup(world, policy={"enabled": True})
    r = world.next(annotator, pid)
    assert r.status_code == 200
    for secret in SECRETS:
        assert secret not in r.text  # the raw HTTP response
    shown = r.json()["data"]["text"]
    assert shown == "Write to [EMAIL_1] about the invoice; pay IBAN [IBAN_1] by Friday. Again: [EMAIL_1]."
    # Masked keeps every offset.
    world.client.patch(f"/api/projects/{pid}/privacy", json={"annotators": "masked"}, headers=owner.headers)
    item_id = r.json()["item_id"]
    again = world.next(annotator, pid)  # the lease held comes back, now masked
    assert again.json()["item_id"] == item_id
    masked = again.json()["data"]["text"]
    assert len(masked) == len(TEXT) and EMAIL not in masked and "•" in masked


def test_spans_on_the_redacted_text_are_stored_on_the_original(world: World) -> None:
    owner, annotator, reviewer, pid = setup(world, policy={"enabled": True})
    scan(world, owner, pid)
    task = world.next(annotator, pid).json()
    shown = task["data"]["text"]
    about = shown.index("invoice")
    placeholder = shown.index("[IBAN_1]")
    value = {"ents": [{"start": about, "end": about + len("invoice"), "label": "MISC"},
                      {"start": placeholder, "end": placeholder + len("[IBAN_1]"), "label": "WHO"}]}
    r = world.submit(annotator, pid, task["item_id"], value, key="k1")
    assert r.status_code == 201, r.text
    with world.runtime.db.read() as conn:
        stored = conn.execute(select(answers.c.value).where(answers.c.id == r.json()["id"])).scalar_one()
    assert [TEXT[s["start"]:s["end"]] for s in stored["ents"]] == ["invoice", IBAN]
    # The answer comes back on the shown text, as the annotator drew it.
    assert r.json()["value"]["ents"][1]["start"] == placeholder
    # A retry with the same key replays; the annotator's own answer comes back on the shown text.
    again = world.submit(annotator, pid, task["item_id"], value, key="k1")
    assert again.status_code == 200
    mine = world.client.get(f"/api/projects/{pid}/answers/{r.json()['id']}", headers=annotator.headers)
    assert mine.status_code == 200
    assert EMAIL not in mine.text and IBAN not in mine.text
    body = mine.json()
    assert [body["item"]["data"]["text"][s["start"]:s["end"]] for s in body["answer"]["value"]["ents"]] == [
        "invoice", "[IBAN_1]"]
    # The reviewer's item view: redacted too, the answer on the shown text.
    item = world.client.get(f"/api/projects/{pid}/items/{task['item_id']}", headers=reviewer.headers)
    assert item.status_code == 200 and EMAIL not in item.text
    detail = item.json()
    ent = detail["answers"][0]["value"]["ents"][1]
    assert detail["item"]["data"]["text"][ent["start"]:ent["end"]] == "[IBAN_1]"


def test_reveal_is_for_reviewers_and_leaves_a_trace(world: World) -> None:
    owner, annotator, reviewer, pid = setup(world, policy={"enabled": True})
    item_id = world.next(annotator, pid).json()["item_id"]
    r = world.client.post(f"/api/projects/{pid}/items/{item_id}/reveal", headers=annotator.headers)
    assert r.status_code == 403 and EMAIL not in r.text
    assert world.client.get(f"/api/projects/{pid}/privacy", headers=reviewer.headers).json()["may_reveal"]
    r = world.client.post(f"/api/projects/{pid}/items/{item_id}/reveal", headers=reviewer.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["text"] == TEXT
    assert r.json()["fields"] == ["text"]
    assert r.json()["legend"] == {"[EMAIL_1]": EMAIL, "[IBAN_1]": IBAN}
    [entry] = audit_entries(world, "item.reveal")
    assert (entry.actor_id, entry.project_id, entry.object_id, entry.details) == (
        reviewer.id, pid, str(item_id), {"fields": ["text"]})
    # The policy may keep reveals for managers: then the reviewer is refused, the owner is not.
    world.client.patch(f"/api/projects/{pid}/privacy", json={"reveal": "manager"}, headers=owner.headers)
    r = world.client.post(f"/api/projects/{pid}/items/{item_id}/reveal", headers=reviewer.headers)
    assert r.status_code == 403
    r = world.client.post(f"/api/projects/{pid}/items/{item_id}/reveal", headers=owner.headers)
    assert r.status_code == 200 and r.json()["data"]["text"] == TEXT
    assert len(audit_entries(world, "item.reveal")) == 2


def test_no_endpoint_gives_an_annotator_the_values(world: World) -> None:
    _, annotator, _, pid = setup(world, policy={"enabled": True})
    task = world.next(annotator, pid).json()
    iid = task["item_id"]
    calls = [
        ("POST", f"/api/projects/{pid}/tasks/next", None),
        ("POST", f"/api/projects/{pid}/items/{iid}/lease", None),
        ("GET", f"/api/projects/{pid}/items", None),
        ("GET", f"/api/projects/{pid}/items/{iid}", None),
        ("POST", f"/api/projects/{pid}/items/{iid}/reveal", None),
        ("GET", f"/api/projects/{pid}/export", {"format": "jsonl"}),
        ("GET", f"/api/projects/{pid}/export", {"format": "jsonl", "redact": "false"}),
        ("GET", f"/api/projects/{pid}/answers", None),
    ]
    for method, url, params in calls:
        r = world.client.request(method, url, params=params, headers=annotator.headers)
        for secret in SECRETS:
            assert secret not in r.text, (url, r.status_code)


def test_exports_choose_redacted_or_original_and_the_choice_is_logged(world: World) -> None:
    owner, annotator, _, pid = setup(world, policy={"enabled": True})
    scan(world, owner, pid)
    task = world.next(annotator, pid).json()
    at = task["data"]["text"].index("[EMAIL_1]")
    world.submit(annotator, pid, task["item_id"], {"ents": [{"start": at, "end": at + 9, "label": "WHO"}]})
    original = world.client.get(f"/api/projects/{pid}/export", params={"format": "jsonl"},
                                headers=owner.headers)
    assert original.status_code == 200 and EMAIL in original.text
    row = json.loads(original.text.splitlines()[0])
    ent = row["answers"][0]["value"]["ents"][0]
    assert row["data"]["text"][ent["start"]:ent["end"]] == EMAIL
    red = world.client.get(f"/api/projects/{pid}/export", params={"format": "jsonl", "redact": "true"},
                           headers=owner.headers)
    assert red.status_code == 200
    for secret in SECRETS:
        assert secret not in red.text
    row = json.loads(red.text.splitlines()[0])
    ent = row["answers"][0]["value"]["ents"][0]
    assert row["data"]["text"][ent["start"]:ent["end"]] == "[EMAIL_1]"
    csv = world.client.get(f"/api/projects/{pid}/export", params={"format": "csv", "redact": "true"},
                           headers=owner.headers)
    assert csv.status_code == 200 and EMAIL not in csv.text and "[EMAIL_1]" in csv.text
    parquet = world.client.get(f"/api/projects/{pid}/export", params={"format": "parquet", "redact": "true"},
                               headers=owner.headers)
    assert parquet.status_code == 200
    table = pq.read_table(io.BytesIO(parquet.content))
    assert EMAIL not in json.dumps(table.to_pylist(), default=str)
    assert (table.schema.metadata or {}).get(b"labelloop.redacted") == b"true"
    choices = [e.details.get("redacted") for e in audit_entries(world, "export")]
    assert choices == [False, True, True, True]


def test_scan_job_counts_per_kind_and_stores_no_plain_values(world: World) -> None:
    owner, _, _, pid = setup(world, policy={"enabled": True, "scan_on_import": False})
    world.import_records(owner, pid, [{"id": "b", "text": "Call +33 6 12 34 56 78 or mail ann@example.org"},
                                      {"id": "c", "text": "nothing personal here"}])
    job = scan(world, owner, pid)
    assert job["result"]["items"] == 3
    assert job["result"]["by_kind"] == {"email": 3, "iban": 1, "phone": 1}
    assert job["progress_done"] == 3
    # A second scan has nothing left to do; a rescan reads every item again.
    assert scan(world, owner, pid)["result"]["items"] == 0
    assert scan(world, owner, pid, rescan="true")["result"]["items"] == 3
    summary = world.client.get(f"/api/projects/{pid}/privacy", headers=owner.headers).json()["summary"]
    assert summary == {"by_kind": {"email": 3, "iban": 1, "phone": 1}, "items_with_findings": 2,
                       "items_scanned": 3, "items": 3}
    with world.runtime.db.read() as conn:
        rows = conn.execute(select(item_pii)).all()
    assert {r.value_hash for r in rows if r.kind == "email"} == {
        value_hash("email", EMAIL), value_hash("email", "ann@example.org")}
    assert all(EMAIL not in str(tuple(r)) for r in rows)
    assert len(audit_entries(world, "privacy.scan")) == 3


def test_an_import_into_a_project_with_the_policy_on_is_scanned(world: World) -> None:
    owner, _, _, pid = setup(world, policy={"enabled": True})
    jobs = world.client.get(f"/api/projects/{pid}/jobs", headers=owner.headers).json()
    imported = next(j for j in jobs if j["kind"] == "import")
    scan_id = imported["result"]["privacy_scan_job"]
    world.runtime.wait_for(scan_id)  # the scan the import started, run by the world's worker
    job = world.client.get(f"/api/jobs/{scan_id}", headers=owner.headers).json()
    assert job["status"] == "succeeded" and job["result"]["by_kind"] == {"email": 2, "iban": 1}


SCHEMA = parse_schema(SPANS_SCHEMA)
WORDS = st.sampled_from(["hello", "Jean", "call", EMAIL, "bob@example.com", "IBAN", IBAN, " ", ", ", "\n"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WORDS, min_size=1, max_size=14), st.data())
def test_a_span_outside_placeholders_maps_to_the_same_substring(words: list[str], data: st.DataObject) -> None:
    text = "".join(words)
    found = {"text": detect(text, kinds=["email", "iban"])}
    red = redact_item(SCHEMA, {"text": text}, item_texts(SCHEMA.fields, {"text": text}), found, "placeholders")
    shown = red.data["text"]
    # Draw a span on the shown text that does not touch a placeholder.
    inside = set()
    for s, e in (red.maps["text"].redacted if "text" in red.maps else ()):
        inside.update(range(s, e))
    start = data.draw(st.integers(0, len(shown)))
    end = data.draw(st.integers(start, len(shown)))
    if end == start or any(i in inside for i in range(start, end)):
        return
    value = {"ents": [{"start": start, "end": end, "label": "WHO"}]}
    back = red.answer_to_original(SCHEMA, value)["ents"][0]
    assert text[back["start"]:back["end"]] == shown[start:end]
    assert red.answer_to_shown(SCHEMA, {"ents": [back]})["ents"][0] == value["ents"][0]


def test_cli_sets_the_policy_scans_and_exports_redacted(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    cli = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = cli.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.output

    try:
        schema = tmp_path / "schema.json"
        schema.write_text(json.dumps(SPANS_SCHEMA))
        run("project", "create", "Letters", "--schema", str(schema))
        data = tmp_path / "items.jsonl"
        data.write_text(json.dumps({"id": "a", "text": TEXT}) + "\n")
        run("import", "Letters", str(data))
        assert "policy is off" in run("privacy", "scan", "Letters", code=1)
        assert "enabled: True" in run("privacy", "set", "Letters", "--enable", "--kinds", "email,iban")
        out = run("privacy", "scan", "Letters")
        assert "scanned 1 items: 3 findings (email 2, iban 1)" in out
        assert "email 2, iban 1" in run("privacy", "show", "Letters")
        target = tmp_path / "out.jsonl"
        run("export", "Letters", "--redact", "-o", str(target))
        assert EMAIL not in target.read_text() and "[EMAIL_1]" in target.read_text()
        run("export", "Letters", "-o", str(target))
        assert EMAIL in target.read_text()
        assert "unknown kind" in run("privacy", "set", "Letters", "--kinds", "email,passport", code=1)
    finally:
        get_settings.cache_clear()


def test_the_settings_table_in_the_docs_matches_the_model() -> None:
    from labelloop.services.privacy.settings import PrivacySettings

    text = (Path(__file__).resolve().parents[2] / "docs" / "privacy.md").read_text()
    section = text[text.index("## On the platform"):]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section, re.M))
    assert set(rows) == set(PrivacySettings.model_fields)
    for name in ("enabled", "language", "annotators", "reveal", "scan_on_import", "blur_faces"):
        assert rows[name].strip() == str(PrivacySettings.model_fields[name].default).lower(), name


def test_faces_are_blurred_for_annotators_and_not_for_reviewers(world: World) -> None:
    import cv2
    import numpy as np
    from PIL import Image
    from skimage import data as photos

    from labelloop.services.privacy.faces import face_boxes
    from tests.platform.pictures import SCHEMA as IMAGE_SCHEMA
    from tests.platform.pictures import encoded, sha, zipped

    photo = encoded(Image.fromarray(photos.astronaut()))  # a real photo with one face
    owner, annotator, reviewer = world.user(), world.user(), world.user()
    pid = world.project(owner, schema=IMAGE_SCHEMA, members={"annotator": (annotator,), "reviewer": (reviewer,)})
    r = world.upload(owner, pid, zipped({"astronaut.png": photo}), "photos.zip")
    assert r.status_code == 201, r.text
    r = world.client.patch(f"/api/projects/{pid}/privacy", json={"enabled": True, "blur_faces": True},
                           headers=owner.headers)
    assert r.status_code == 200, r.text

    def served(who: User, variant: str) -> bytes:
        got = world.client.get(f"/api/projects/{pid}/blobs/{sha(photo)}", params={"variant": variant},
                               headers=who.headers)
        assert got.status_code == 200, got.text
        return got.content

    def pixels(data: bytes) -> Any:
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)

    original = pixels(photo)
    [(x, y, w, h)] = face_boxes(original)
    blurred = served(annotator, "original")
    assert blurred != photo and face_boxes(pixels(blurred)) == []
    face = (slice(y, y + h), slice(x, x + w))
    changed = np.abs(pixels(blurred).astype(int) - original.astype(int))
    assert changed[face].mean() > 10  # the face is gone...
    assert changed[:y // 2].max() == 0  # ...and the sky above it untouched (PNG stays lossless)
    assert served(annotator, "original") == blurred  # made once, then served from the store
    for variant in ("preview", "thumb"):  # the blurred original made small
        small = pixels(served(annotator, variant))
        expected = cv2.resize(pixels(blurred), small.shape[1::-1], interpolation=cv2.INTER_AREA)
        assert np.abs(small.astype(int) - expected.astype(int)).mean() < 6  # JPEG thumbnails
    assert served(reviewer, "original") == photo  # reviewers may reveal: the photo as it is
    entries = [e.details for e in audit_entries(world, "blob.serve")]
    assert {"variant": "original", "faces_blurred": True} in entries and {"variant": "original"} in entries


def test_review_decisions_and_gold_on_the_redacted_view_are_stored_on_the_original(world: World) -> None:
    owner, annotator, reviewer, pid = setup(world, policy={"enabled": True})
    item_id = world.next(annotator, pid).json()["item_id"]
    shown = world.client.get(f"/api/projects/{pid}/items/{item_id}", headers=reviewer.headers).json()
    text = shown["item"]["data"]["text"]
    at = text.index("[IBAN_1]")
    value = {"ents": [{"start": at, "end": at + len("[IBAN_1]"), "label": "WHO"}]}
    r = world.client.put(f"/api/projects/{pid}/items/{item_id}/gold", json={"value": value},
                         headers=owner.headers)
    assert r.status_code == 200, r.text
    assert EMAIL not in r.text and r.json()["gold"] == value  # shown on the redacted text
    with world.runtime.db.read() as conn:
        gold = conn.execute(select(items.c.gold).where(items.c.id == item_id)).scalar_one()
    [span] = gold["ents"]
    assert TEXT[span["start"]:span["end"]] == IBAN
    # A reviewer's decision, given on the redacted text too.
    assert world.client.post(f"/api/projects/{pid}/items/{item_id}/flag", headers=reviewer.headers).status_code < 300
    at = text.index("[EMAIL_1]")
    decided = {"ents": [{"start": at, "end": at + len("[EMAIL_1]"), "label": "WHO"}]}
    r = world.client.post(f"/api/projects/{pid}/items/{item_id}/review", json={"value": decided},
                          headers=reviewer.headers)
    assert r.status_code < 300, r.text
    assert EMAIL not in r.text
    with world.runtime.db.read() as conn:
        final = conn.execute(select(consensus.c.value).where(consensus.c.item_id == item_id)).scalar_one()
    [span] = final["ents"]
    assert TEXT[span["start"]:span["end"]] == EMAIL


def test_strings_in_the_metadata_are_redacted_too(world: World) -> None:
    owner, annotator, reviewer, pid = setup(world, policy={"enabled": True}, text="Hello there.")
    world.import_records(owner, pid, [{"id": "m", "text": "See the sender.", "meta": {"from": EMAIL, "n": 3}}])
    job = scan(world, owner, pid, rescan="true")
    assert job["result"]["by_kind"] == {"email": 1}
    first = world.next(annotator, pid)
    seen = [first, world.next(annotator, pid, exclude=[first.json()["item_id"]])]
    assert all(EMAIL not in r.text for r in seen)
    meta = next(r.json()["meta"] for r in seen if r.json()["meta"])
    assert meta == {"from": "[EMAIL_1]", "n": 3}
    items_page = world.client.get(f"/api/projects/{pid}/items", headers=reviewer.headers)
    assert EMAIL not in items_page.text
    item_id = next(i["id"] for i in items_page.json() if i["external_id"] == "m")
    r = world.client.post(f"/api/projects/{pid}/items/{item_id}/reveal", headers=reviewer.headers)
    assert r.json()["fields"] == ["@meta/from"] and r.json()["legend"] == {"[EMAIL_1]": EMAIL}
    red = world.client.get(f"/api/projects/{pid}/export", params={"format": "jsonl", "redact": "true"},
                           headers=owner.headers)
    assert EMAIL not in red.text and '"from":"[EMAIL_1]"' in red.text
