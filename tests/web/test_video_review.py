"""The review queue on a video item, in real Chromium: every annotator's tracks drawn on the frame
on screen under the decision, one colour each, at the box the interpolation gives there (the same
`interpolate.ts` as the workbench: read back exactly, dashed between keyframes, solid on one), their
per-frame shapes on their own frame only, each person's layer hidden and shown by its toggle, the
gold answer's layer for managers only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Watch
from tests.web.site import Person, Site
from tests.web.test_video_workbench import TRACKS, lerp
from tests.web.test_workbench import log_in
from tests.web.video_page import card, go_to, import_videos
from tests.web.waits import wait_until

pytest.importorskip("av")

SCHEMA = {"fields": [{"name": "clip", "type": "video", "label": "Clip"}], "questions": [TRACKS]}
ANN = {"tracks": [{"id": "t1", "label": "car", "keyframes": [
    {"frame": 2, "box": [10.0, 20.0, 90.0, 80.0], "outside": False, "occluded": False},
    {"frame": 12, "box": [110.0, 60.0, 200.0, 150.0], "outside": False, "occluded": False}]}],
    "shapes": [{"frame": 7, "label": "person", "box": [250.0, 30.0, 300.0, 100.0]}]}
BOB = {"tracks": [{"id": "t1", "label": "car", "keyframes": [
    {"frame": 0, "box": [13.0, 21.0, 95.0, 83.0], "outside": False, "occluded": False},
    {"frame": 9, "box": [120.0, 70.0, 211.0, 163.0], "outside": False, "occluded": False}]}], "shapes": []}
GOLD = {"tracks": [{"id": "g", "label": "car", "keyframes": [
    {"frame": 0, "box": [12.0, 20.0, 92.0, 80.0], "outside": False, "occluded": False}]}], "shapes": []}


def disputed_video(site: Site, tmp_path: Path) -> tuple[Person, Person, dict[str, int], list[str], int]:
    owner, reviewer = site.person("owner"), site.person("reviewer")
    ann, bob = site.person("ann"), site.person("bob")
    pid = site.project(owner, SCHEMA, overlap=2, members={"reviewer": [reviewer], "annotator": [ann, bob]})
    import_videos(site, owner, pid, {"road.mp4": card(tmp_path, "road.mp4", 20, width=320, height=240, fps=25)})
    ids = {}
    for who, value in ((ann, ANN), (bob, BOB)):
        task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers).json()
        r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                           json={"value": {"objects": value}})
        assert r.status_code == 201, r.text
        ids[who.username] = int(r.json()["id"])
    item_id = int(task["item_id"])
    r = site.http.put(f"/api/projects/{pid}/items/{item_id}/gold", headers=owner.headers, json={"value": {"objects": GOLD}})
    assert r.status_code == 200, r.text
    r = site.http.post(f"/api/projects/{pid}/items/{item_id}/flag", headers=owner.headers)
    assert r.status_code == 204, r.text
    return owner, reviewer, {"ann": ids[ann.username], "bob": ids[bob.username]}, [ann.username, bob.username], pid


def layer_boxes(page: Any, layer: str) -> list[dict[str, Any]]:
    """The boxes of one person's layer on the frame on screen: exact numbers, dashed or not, its colour."""
    return list(page.evaluate(
        """(id) => [...document.querySelectorAll(`.video-svg .others [data-layer="${id}"] .oth`)].map((g) => ({
                 track: g.dataset.track ?? null, shape: g.dataset.shape ?? null,
                 box: g.dataset.box.split(',').map(Number),
                 dashed: getComputedStyle(g.querySelector('rect')).strokeDasharray !== 'none',
                 colour: getComputedStyle(g.querySelector('rect')).stroke}))""", layer))


def test_a_reviewer_sees_everyones_tracks_interpolated_on_the_frame(
        page: Any, browser: Any, site: Site, watch: Watch, tmp_path: Path) -> None:
    owner, reviewer, ids, names, pid = disputed_video(site, tmp_path)
    a_layer, b_layer = f"answer:{ids['ann']}", f"answer:{ids['bob']}"

    # A manager sees the gold layer too; the reviewer does not.
    manager_view = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        manager = manager_view.new_page()
        log_in(manager, site, owner, f"p/{pid}/review")
        manager.locator(".video-stage[data-ready='true']").wait_for(timeout=30_000)
        assert manager.locator(".video-layers li[data-layer='gold']").count() == 1
    finally:
        manager_view.close()

    log_in(page, site, reviewer, f"p/{pid}/review")
    page.locator(".video-stage[data-ready='true']").wait_for(timeout=30_000)
    assert page.locator(".video-layers li").count() == 2 and page.locator("[data-layer='gold']").count() == 0
    # Each layer named as text, in answer order.
    assert page.locator(".video-layers .who").all_inner_texts() == names

    # Frame 7: between ann's keyframes (2, 12) and bob's (0, 9): both boxes at their interpolations, dashed.
    go_to(page, 7)
    [a_box, a_shape] = layer_boxes(page, a_layer)
    [b_box] = layer_boxes(page, b_layer)
    ka, kb = ANN["tracks"][0]["keyframes"], BOB["tracks"][0]["keyframes"]  # type: ignore[index]
    assert a_box["box"] == lerp(ka[0]["box"], ka[1]["box"], 7, 2, 12) and a_box["dashed"]
    assert b_box["box"] == lerp(kb[0]["box"], kb[1]["box"], 7, 0, 9) and b_box["dashed"]
    assert a_box["colour"] != b_box["colour"]
    # ann's per-frame shape at 7, solid; not on frame 8.
    assert a_shape["shape"] == "0" and a_shape["box"] == [250.0, 30.0, 300.0, 100.0] and not a_shape["dashed"]

    # Frame 9: bob's keyframe (solid, exact), ann's still interpolated; the shape gone.
    go_to(page, 9)
    [a9] = layer_boxes(page, a_layer)
    [b9] = layer_boxes(page, b_layer)
    assert a9["box"] == lerp(ka[0]["box"], ka[1]["box"], 9, 2, 12) and a9["dashed"]
    assert b9 == {**b9, "box": kb[1]["box"], "dashed": False}

    # Hide bob's layer: his box goes, ann's stays; show it again.
    toggle = page.get_by_label(f"show the tracks of {names[1]}")
    toggle.uncheck()
    wait_until(page, f"!document.querySelector('.video-svg [data-layer=\"{b_layer}\"]')")
    assert len(layer_boxes(page, a_layer)) == 1
    toggle.check()
    wait_until(page, f"!!document.querySelector('.video-svg [data-layer=\"{b_layer}\"] .oth')")
    assert watch.dialogs == [] and watch.errors == []
