"""The review queue on an audio item, in a real browser: every annotator's segments in a lane of their
own under the waveform, named as text, each segment at its times with its label and transcript (a
hostile transcript shown as text), read-only (a click there moves the playhead, nothing else); the
gold answer's lane for managers only; the decision started from one person's segments and stored
exactly. Annotators never reach any of it: the server refuses them the review queue and the item."""

from __future__ import annotations

from typing import Any

from tests.platform.sounds import sound
from tests.web.audio_page import DASH, STAGE, import_clips, media, screen_x
from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

TURNS = {"name": "turns", "label": "Turns", "type": "audio_segments", "target": "clip", "transcript": True,
         "labels": ["speech", {"value": "spk_b", "label": "Speaker B"}]}
SCHEMA = {"fields": [{"name": "clip", "type": "audio", "label": "Clip"}], "questions": [TURNS]}
HOSTILE = "<img src=x onerror=alert(1)> & <b>bold</b>"
ANN = [{"start": 0.5, "end": 2.0, "label": "speech", "text": "hello there"},
       {"start": 2.5, "end": 3.5, "label": "spk_b", "text": HOSTILE}]
BOB = [{"start": 0.4, "end": 2.2, "label": "speech", "text": "hello their"}]
GOLD = [{"start": 0.5, "end": 2.1, "label": "speech", "text": "hello there"}]


def disputed_clip(site: Site) -> tuple[Person, Person, Person, Person, int, int, dict[str, int]]:
    """A four-second clip answered by ann (two segments) and bob (one), with gold, flagged."""
    owner, reviewer = site.person("owner"), site.person("reviewer")
    ann, bob = site.person("ann"), site.person("bob")
    pid = site.project(owner, SCHEMA, overlap=2, members={"reviewer": [reviewer], "annotator": [ann, bob]})
    import_clips(site, owner, pid, {"talk.wav": sound("wav", 4.0)})
    answer_ids = {}
    for who, segments in ((ann, ANN), (bob, BOB)):
        task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers).json()
        r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                           json={"value": {"turns": segments}})
        assert r.status_code == 201, r.text
        answer_ids[who.username] = int(r.json()["id"])
    item_id = int(task["item_id"])
    r = site.http.put(f"/api/projects/{pid}/items/{item_id}/gold", headers=owner.headers, json={"value": {"turns": GOLD}})
    assert r.status_code == 200, r.text
    r = site.http.post(f"/api/projects/{pid}/items/{item_id}/flag", headers=owner.headers)
    assert r.status_code == 204, r.text
    return owner, reviewer, ann, bob, pid, item_id, answer_ids


def lane(page: Any, layer: str) -> Any:
    return page.locator(f"{STAGE} .wave-lane[data-layer='{layer}']")


def test_a_reviewer_compares_everyones_segments_under_the_waveform_and_decides(
    page: Any, browser: Any, site: Site, watch: Watch
) -> None:
    owner, reviewer, ann, bob, pid, item_id, answer_ids = disputed_clip(site)
    a_layer, b_layer = f"answer:{answer_ids[ann.username]}", f"answer:{answer_ids[bob.username]}"

    # A manager sees the gold answer's lane too; the server sends gold to no one else.
    manager_view = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        manager = manager_view.new_page()
        log_in(manager, site, owner, f"p/{pid}/review")
        manager.locator(f"{STAGE}[data-drawn='true']").wait_for()
        assert manager.locator(f"{STAGE} .wave-lane").count() == 3
        assert manager.locator(f"{STAGE} .wave-lane[data-layer='gold'] .who").inner_text() == "gold answer"
    finally:
        manager_view.close()
    assert site.http.get(f"/api/projects/{pid}/items/{item_id}", headers=reviewer.headers).json()["item"]["gold"] is None

    log_in(page, site, reviewer, f"p/{pid}/review")
    page.locator(f"{STAGE}[data-drawn='true']").wait_for()
    assert page.locator(f"{STAGE} .wave-lane").count() == 2 and page.locator("[data-layer='gold']").count() == 0

    # One lane per person, named as text, each segment at its times with its label and transcript.
    for who, layer, segments in ((ann, a_layer, ANN), (bob, b_layer, BOB)):
        row = lane(page, layer)
        assert row.get_attribute("aria-label") == f"segments of {who.username}"
        assert row.locator(".who").inner_text() == who.username
        shown = row.locator(".wave-other")
        assert shown.count() == len(segments)
        for k, s in enumerate(segments):
            seg = shown.nth(k)
            assert seg.locator(".wave-seg-text").text_content() == s["text"]
            assert seg.locator(".wave-seg-label").inner_text() == ("Speaker B" if s["label"] == "spk_b" else "speech")
            box = seg.bounding_box()
            assert abs(box["x"] - screen_x(page, s["start"])) < 1.5
            assert abs(box["x"] + box["width"] - screen_x(page, s["end"])) < 1.5
            label = "Speaker B" if s["label"] == "spk_b" else "speech"
            assert seg.get_attribute("title") == \
                f"{who.username}: {label} {s['start']:.3f}{DASH}{s['end']:.3f} s \u201c{s['text']}\u201d"
    # Under the waveform, one above the other, in a colour each.
    a_box, b_box, wave = (lane(page, a_layer).bounding_box(), lane(page, b_layer).bounding_box(),
                          page.locator(".wave-canvas").bounding_box())
    assert wave["y"] + wave["height"] <= a_box["y"] + 1 and a_box["y"] + a_box["height"] <= b_box["y"] + 1
    colours = {lane(page, x).evaluate("e => getComputedStyle(e).color") for x in (a_layer, b_layer)}
    assert len(colours) == 2
    # The hostile transcript is text: no element was made from it.
    assert page.locator("img[src='x']").count() == 0 and page.locator(f"{STAGE} b").count() == 0
    screenshot(page, "review-audio")

    # Read-only: a click on someone's segment moves the playhead there and makes no segment.
    page.mouse.click(screen_x(page, 3.0), lane(page, a_layer).locator(".wave-other").nth(1).bounding_box()["y"] + 20)
    wait_until(page, "Math.abs(document.querySelector('audio.wave-audio').currentTime - 3.0) < 0.05")
    assert abs(media(page)["time"] - 3.0) < 0.05
    assert page.locator(f"{STAGE} .wave-seg").count() == 0 and page.locator(".seg-list > li").count() == 0

    # The decision starts from bob's segments, drawn on the waveform, and is stored exactly.
    page.get_by_role("button", name=f"start from the answer of {bob.username}").click()
    wait_until(page, "document.querySelectorAll('.wave-stage .wave-seg').length === 1")
    assert page.locator(f"{STAGE} .wave-lane").count() == 2  # the lanes stay to compare with
    page.locator("button[type='submit']", has_text="Decide").click()
    page.get_by_text("Nothing waits for review.").wait_for()
    decisions = [a for a in site.answers(owner, pid) if a["source"] == "review"]
    assert [d["value"] for d in decisions] == [{"turns": [{**BOB[0], "words": None}]}]
    assert watch.dialogs == [] and watch.errors == []


def test_annotators_never_see_the_review_queue_nor_others_segments(page: Any, site: Site, watch: Watch) -> None:
    _, _, ann, _, pid, item_id, _ = disputed_clip(site)
    for path in (f"/api/projects/{pid}/review/next", f"/api/projects/{pid}/items/{item_id}"):
        r = site.http.get(path, headers=ann.headers)
        assert r.status_code == 403, (path, r.status_code, r.text)
        assert "hello their" not in r.text and "hello there" not in r.text
    # Their own answers only: bob's segments never reach them.
    r = site.http.get(f"/api/projects/{pid}/answers", params={"item_id": item_id}, headers=ann.headers)
    assert r.status_code == 200, r.text
    assert [a["username"] for a in r.json()] == [ann.username] and "hello their" not in r.text
    log_in(page, site, ann, f"p/{pid}/review")
    page.get_by_role("alert").wait_for()
    assert page.locator(".wave-lane").count() == 0 and page.get_by_text("hello their").count() == 0
    assert watch.dialogs == []
