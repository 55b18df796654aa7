"""The manager's console on a video project, in a real browser: the `tracker` loop setting shown with
what it does, saved, and refused next to the field; and each
annotator's MOTA, IDF1 and HOTA on gold videos in the annotators table. A text project shows neither."""

from __future__ import annotations

from typing import Any

from labelloop.services.quality.shape_gold import track_gold_counts
from tests.platform.test_video_gold import EXACT, GOLD, MISSED, SWAPPED
from tests.web.conftest import Watch
from tests.web.site import Person, Site
from tests.web.test_image_console import TEXT, problem_at, save, stored
from tests.web.test_workbench import log_in

TRACKS = {"name": "objects", "label": "Objects", "type": "video_tracks", "target": "clip", "labels": ["car", "person"]}
SCHEMA: dict[str, Any] = {"fields": [{"name": "clip", "type": "video"}], "questions": [TRACKS]}


def video_project(site: Site, annotators: list[Person], *, overlap: int = 1) -> tuple[Person, int]:
    owner = site.person("owner")
    pid = site.project(owner, SCHEMA, overlap=overlap, members={"annotator": annotators})
    site.import_records(owner, pid, [{"id": f"v{i}", "clip": f"https://media.example/v{i}.mp4"} for i in range(2)])
    return owner, pid


def test_a_manager_sets_the_tracker(page: Any, site: Site, watch: Watch) -> None:
    owner, pid = video_project(site, [])
    log_in(page, site, owner, f"p/{pid}/loop")
    form = page.get_by_role("form", name="loop settings")
    tracker = form.get_by_label("Tracker that proposes a track")
    assert tracker.input_value() == "opencv"  # the default, with a sentence on what it does
    help_id = form.locator("[data-setting='tracker'] p.help").get_attribute("id")
    assert tracker.get_attribute("aria-describedby") == help_id
    assert "opencv-csrt" in form.locator(f"#{help_id}").inner_text()
    # Image models are not offered on a video project.
    for key in ("detector", "segmenter"):
        assert form.locator(f"[data-setting='{key}']").count() == 0

    tracker.fill("opencv-kcf")
    with page.expect_response(lambda r: r.request.method == "PATCH") as sent:
        save(form, "Save loop settings")
    assert sent.value.request.post_data_json == {"loop": {"tracker": "opencv-kcf"}}
    form.get_by_text("Saved.").wait_for()
    assert stored(site, owner, pid, "loop")["tracker"] == "opencv-kcf"

    # Refused in the browser, under the field: nothing is sent or stored.
    tracker.fill("meanshift")
    save(form, "Save loop settings")
    assert "opencv (or opencv-csrt" in problem_at(form, "tracker", tracker)
    # A team's tracker by URL is saved as typed.
    tracker.fill("http://127.0.0.1:9/track")
    save(form, "Save loop settings")
    form.get_by_text("Saved.").wait_for()
    assert stored(site, owner, pid, "loop")["tracker"] == "http://127.0.0.1:9/track"
    assert stored(site, owner, pid, "loop")["tracker"] == "http://127.0.0.1:9/track"

    # A text project has no tracker setting.
    text_owner = site.person("texter")
    text = site.project(text_owner, TEXT)
    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, text_owner, f"p/{text}/loop")
    page.get_by_role("button", name="Save loop settings").wait_for()
    assert page.locator("[data-setting='tracker']").count() == 0
    assert watch.dialogs == [] and watch.errors == []


def answer_all(site: Site, who: Person, pid: int, value: dict[str, Any]) -> None:
    while (r := site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers)).status_code == 200:
        r = site.http.post(f"/api/projects/{pid}/items/{r.json()['item_id']}/answers", headers=who.headers,
                           json={"value": {"objects": value}})
        assert r.status_code == 201, r.text


def test_the_annotators_table_scores_tracks_on_gold_videos(page: Any, site: Site, watch: Watch) -> None:
    ann, bob, cat = site.person("ann"), site.person("bob"), site.person("cat")
    owner, pid = video_project(site, [ann, bob, cat], overlap=3)
    answer_all(site, ann, pid, EXACT)  # one pixel off the gold
    answer_all(site, bob, pid, SWAPPED)  # identities swap halfway: two switches a video
    answer_all(site, cat, pid, MISSED)  # one of the two objects
    items = site.http.get(f"/api/projects/{pid}/items", params={"limit": 10}, headers=owner.headers).json()
    for item in items:
        r = site.http.put(f"/api/projects/{pid}/items/{item['id']}/gold", headers=owner.headers,
                          json={"value": {"objects": GOLD}})
        assert r.status_code == 200, r.text

    log_in(page, site, owner, f"p/{pid}/quality")
    table = page.locator("table.annotators")
    table.wait_for()
    head = table.locator("thead").inner_text()
    assert "Tracks on gold videos" in head and "Shapes on gold images" not in head
    cell = lambda who: table.locator(f"tr[data-annotator='{who.username}'] td[data-col='gold-tracks']")  # noqa: E731
    hota = track_gold_counts(EXACT, GOLD).hota
    assert cell(ann).inner_text() == f"MOTA 1.00, IDF1 1.00, HOTA {hota:.2f} on 2 gold videos (0 identity switches)"
    # IDF1 1/2; MOTA 1 - 4 switches / 80 gold boxes.
    swapped = track_gold_counts(SWAPPED, GOLD).hota
    assert cell(bob).inner_text() == (
        f"MOTA {1 - 4 / 80:.2f}, IDF1 0.50, HOTA {swapped:.2f} on 2 gold videos (4 identity switches)")
    # IDF1 2·20 / (20 + 40) = 0.67; MOTA 1 - 40 misses / 80.
    assert cell(cat).inner_text().startswith("MOTA 0.50, IDF1 0.67, HOTA ")
    people = {p["username"]: p for p in site.http.get(
        f"/api/projects/{pid}/quality/annotators", headers=owner.headers).json()}
    assert people[bob.username]["gold_tracks"]["objects"]["switches"] == 4

    # No video_tracks question: no column.
    text_owner = site.person("texter")
    text = site.project(text_owner, TEXT, members={"annotator": [ann]})
    site.import_records(text_owner, text, [{"id": "t1", "text": "hello"}])
    task = site.http.post(f"/api/projects/{text}/tasks/next", headers=ann.headers).json()
    r = site.http.post(f"/api/projects/{text}/items/{task['item_id']}/answers", headers=ann.headers,
                       json={"value": {"tone": "calm"}})
    assert r.status_code == 201, r.text
    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, text_owner, f"p/{text}/quality")
    page.locator(f"table.annotators tr[data-annotator='{ann.username}']").wait_for()
    assert "Tracks on gold videos" not in page.locator("table.annotators thead").inner_text()
    assert watch.dialogs == [] and watch.errors == []
