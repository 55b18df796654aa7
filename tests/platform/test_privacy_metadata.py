"""Personal data nested in an item's metadata and in JSON-valued fields (docs/privacy.md, "The scan"):
every string inside them is scanned (its finding named by a JSON Pointer path), redacted in what
annotators and reviewers are served and in redacted exports, and left as it is in original exports."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select

from labelloop.store.models import item_pii
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}, {"name": "dialog", "type": "conversation"}],
    "questions": [{"name": "topic", "type": "choice", "options": ["billing", "other"]}],
}
EMAIL = "jean.dupont@example.fr"
PHONE = "+33 1 42 68 53 00"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
META = {"contact": {"emails": [EMAIL, "none"], "phone": PHONE}, "tags": ["vip"], "n": 3,
        "a/b": f"write to {EMAIL}", "history": [{"note": f"paid from {IBAN}"}]}
DIALOG = [{"role": "user", "content": "Hello, my order is late.", "from": {"address": EMAIL}},
          {"role": "assistant", "content": "Sorry to hear it."}]
SECRETS = (EMAIL, "jean.dupont", PHONE, "42 68 53 00", IBAN, "3000 6000")


def setup(world: World) -> tuple[User, User, User, int]:
    owner, ann, reviewer = world.user(), world.user(), world.user()
    pid = world.project(owner, schema=SCHEMA, members={"annotator": (ann,), "reviewer": (reviewer,)})
    r = world.client.patch(f"/api/projects/{pid}/privacy", json={"enabled": True, "scan_on_import": False},
                           headers=owner.headers)
    assert r.status_code == 200, r.text
    world.import_records(owner, pid, [{"id": "n1", "text": "About my order.", "dialog": DIALOG, "meta": META}])
    return owner, ann, reviewer, pid


SHOWN_META = {"contact": {"emails": ["[EMAIL_1]", "none"], "phone": "[PHONE_1]"}, "tags": ["vip"], "n": 3,
              "a/b": "write to [EMAIL_1]", "history": [{"note": "paid from [IBAN_1]"}]}


def test_nested_strings_are_hidden_from_annotators_before_and_after_the_scan(world: World) -> None:
    owner, ann, _, pid = setup(world)
    # Not scanned yet: detected as it is served.
    r = world.next(ann, pid)
    assert r.status_code == 200, r.text
    assert not any(s in r.text for s in SECRETS)
    task = r.json()
    assert task["meta"] == SHOWN_META
    assert task["data"]["dialog"][0]["from"] == {"address": "[EMAIL_1]"}
    assert task["data"]["dialog"][1] == DIALOG[1] and task["data"]["text"] == "About my order."

    r = world.client.post(f"/api/projects/{pid}/privacy/scan", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    assert r.json()["result"]["by_kind"] == {"email": 3, "iban": 1, "phone": 1}
    with world.runtime.db.read() as conn:
        paths = sorted(conn.execute(select(item_pii.c.field, item_pii.c.kind)).all())
    assert paths == [("@json/dialog/0/from/address", "email"), ("@meta/a~1b", "email"),
                     ("@meta/contact/emails/0", "email"), ("@meta/contact/phone", "phone"),
                     ("@meta/history/0/note", "iban")]
    # Scanned: served from the stored findings, the same.
    again = world.next(ann, pid)
    assert again.json()["item_id"] == task["item_id"]
    assert again.json()["meta"] == SHOWN_META and not any(s in again.text for s in SECRETS)
    # An answer goes in as usual.
    r = world.submit(ann, pid, task["item_id"], {"topic": "billing"}, key="m1")
    assert r.status_code == 201, r.text


def test_reviewers_reveal_and_exports_choose(world: World) -> None:
    owner, ann, reviewer, pid = setup(world)
    task = world.next(ann, pid).json()
    assert world.submit(ann, pid, task["item_id"], {"topic": "billing"}, key="m2").status_code == 201
    page = world.client.get(f"/api/projects/{pid}/items", headers=reviewer.headers)
    assert page.status_code == 200 and not any(s in page.text for s in SECRETS)
    r = world.client.post(f"/api/projects/{pid}/items/{task['item_id']}/reveal", headers=reviewer.headers)
    assert r.status_code == 200, r.text
    assert set(r.json()["fields"]) == {"@json/dialog/0/from/address", "@meta/a~1b", "@meta/contact/emails/0",
                                       "@meta/contact/phone", "@meta/history/0/note"}
    assert r.json()["legend"] == {"[EMAIL_1]": EMAIL, "[PHONE_1]": PHONE, "[IBAN_1]": IBAN}

    def get(fmt: str, redact: bool) -> bytes:
        r = world.client.get(f"/api/projects/{pid}/export", params={"format": fmt, "redact": str(redact).lower()},
                             headers=owner.headers)
        assert r.status_code == 200, r.text
        return r.content

    def parquet_text(body: bytes) -> bytes:
        """The table's values as JSON (a Parquet file compresses its columns)."""
        return json.dumps(pq.read_table(io.BytesIO(body)).to_pylist(), default=str).encode()

    for fmt in ("jsonl", "csv", "parquet"):
        plain, red = get(fmt, False), get(fmt, True)
        if fmt == "parquet":
            plain, red = parquet_text(plain), parquet_text(red)
        for secret in (EMAIL, PHONE, IBAN):
            assert secret.encode() in plain, (fmt, secret)
        for secret in SECRETS:
            assert secret.encode() not in red, (fmt, secret)
        assert b"[EMAIL_1]" in red and b"[IBAN_1]" in red and b"[PHONE_1]" in red, fmt
    line = json.loads(get("jsonl", True))
    assert line["meta"] == SHOWN_META and line["data"]["dialog"][0]["from"] == {"address": "[EMAIL_1]"}
