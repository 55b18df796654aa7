"""The manager's console on an image project, in a real browser: the image models' loop settings and
the gold-shape score in the quality settings (saved, or refused with the server's problem next to
the field), each annotator's score on gold images, and the image-dataset exports (only the formats
that hold the chosen question; a COCO zip downloaded and opened)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.web.canvas_page import import_images, photo
from tests.web.conftest import Watch
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in

BOXES = {"name": "boxes", "label": "Boxes", "type": "bbox", "target": "photo",
         "labels": ["car", {"value": "person", "label": "Person"}]}
SCHEMA: dict[str, Any] = {"fields": [{"name": "photo", "type": "image"}], "questions": [BOXES]}
TEXT: dict[str, Any] = {"fields": [{"name": "text", "type": "text"}],
                        "questions": [{"name": "tone", "type": "choice", "options": ["calm", "angry"]}]}
GOLD = {
    "img0.png": [{"label": "car", "box": [100, 100, 300, 250]}, {"label": "person", "box": [400, 80, 460, 240]}],
    "img1.png": [{"label": "car", "box": [50, 50, 150, 150]}],
}


def project(site: Site, schema: dict[str, Any], *, images: int = 2, overlap: int = 1,
            annotators: list[Person] | None = None) -> tuple[Person, int]:
    owner = site.person("owner")
    pid = site.project(owner, schema, overlap=overlap, members={"annotator": annotators or []})
    if any(f["type"] == "image" for f in schema["fields"]):
        import_images(site, owner, pid, {f"img{i}.png": photo(640, 480, seed=i) for i in range(images)})
    return owner, pid


def stored(site: Site, owner: Person, pid: int, part: str) -> dict[str, Any]:
    return dict(site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()[part])


def item_ids(site: Site, owner: Person, pid: int) -> dict[str, int]:
    got = site.http.get(f"/api/projects/{pid}/items", params={"limit": 100}, headers=owner.headers).json()
    return {i["external_id"]: int(i["id"]) for i in got}


def set_gold(site: Site, owner: Person, pid: int, **others: Any) -> None:
    for external, item in item_ids(site, owner, pid).items():
        r = site.http.put(f"/api/projects/{pid}/items/{item}/gold", headers=owner.headers,
                          json={"value": {"boxes": GOLD[external], **others}})
        assert r.status_code == 200, r.text


def save(form: Any, name: str) -> None:
    form.get_by_role("button", name=name).click()


def problem_at(form: Any, key: str, control: Any) -> str:
    """The server's problem shown under a setting, tied to its field; returns its text."""
    problem = form.locator(f"[data-setting='{key}'] p.error")
    problem.wait_for()
    assert control.get_attribute("aria-invalid") == "true"
    assert problem.get_attribute("id") in (control.get_attribute("aria-describedby") or "").split()
    return str(problem.text_content())


def test_a_manager_sets_the_detector_and_the_segmenter_and_the_gold_shape_score(
    page: Any, site: Site, watch: Watch
) -> None:
    schema = {"fields": [{"name": "photo", "type": "image"}], "questions": [
        BOXES,
        {"name": "vehicles", "type": "bbox", "target": "photo", "labels": ["pedestrian", "vehicle"]},
        {"name": "road", "type": "mask", "target": "photo", "labels": ["road"]},
    ]}
    owner, pid = project(site, schema, images=1)
    log_in(page, site, owner, f"p/{pid}/loop")
    form = page.get_by_role("form", name="loop settings")
    detector = form.get_by_label("Detector that pre-labels boxes (empty: none)")
    question = form.get_by_label("Box question the detector pre-labels")
    classes = form.get_by_label("Detector classes to this project")
    threshold = form.get_by_label("Detector: drop detections scoring under")
    segmenter = form.get_by_label("Segmenter that proposes masks")
    # The defaults, each with a sentence on what it does, read with the field.
    assert detector.input_value() == "" and classes.input_value() == "" and threshold.input_value() == "0.5"
    assert segmenter.input_value() == "grabcut"
    assert question.locator("option").all_inner_texts() == ["Boxes (boxes)", "vehicles"]
    help_id = form.locator("[data-setting='detector'] p.help").get_attribute("id")
    assert detector.get_attribute("aria-describedby") == help_id
    assert "images-models extra" in form.locator(f"#{help_id}").inner_text()

    detector.fill("coco")
    question.select_option(label="vehicles")
    classes.fill("person: pedestrian\n\ncar: vehicle\n truck :vehicle ")
    threshold.fill("0.35")
    segmenter.fill("http://127.0.0.1:9/segment")
    with page.expect_response(lambda r: r.request.method == "PATCH") as sent:
        save(form, "Save loop settings")
    assert sent.value.request.post_data_json == {"loop": {
        "detector": "coco", "detector_question": "vehicles",
        "detector_labels": {"person": "pedestrian", "car": "vehicle", "truck": "vehicle"},
        "detector_threshold": 0.35, "segmenter": "http://127.0.0.1:9/segment"}}
    form.get_by_text("Saved.").wait_for()
    loop = stored(site, owner, pid, "loop")
    assert (loop["detector"], loop["detector_question"], loop["detector_threshold"], loop["segmenter"]) == (
        "coco", "vehicles", 0.35, "http://127.0.0.1:9/segment")
    assert loop["detector_labels"] == {"person": "pedestrian", "car": "vehicle", "truck": "vehicle"}
    # The mapping comes back one pair a line (in the order stored); saving it in another changes nothing.
    assert sorted(classes.input_value().split("\n")) == ["car: vehicle", "person: pedestrian", "truck: vehicle"]
    classes.fill("truck: vehicle\nperson: pedestrian\ncar: vehicle")
    save(form, "Save loop settings")
    form.get_by_text("Nothing to save.").wait_for()

    # A line that is no pair is refused here, naming the line, and nothing is sent.
    classes.fill("person: pedestrian\nbicycle")
    save(form, "Save loop settings")
    assert "line 2" in problem_at(form, "detector_labels", classes)
    classes.fill("person: pedestrian\ncar: vehicle\ntruck: vehicle")

    # The server's own refusals, each under its setting; nothing is stored.
    detector.fill("ftp://example.org/detect")
    segmenter.fill("watershed")
    threshold.fill("1.5")
    save(form, "Save loop settings")
    assert "coco, an http(s) URL" in problem_at(form, "detector", detector)
    assert "grabcut, an http(s) URL" in problem_at(form, "segmenter", segmenter)
    assert "less than or equal to 1" in problem_at(form, "detector_threshold", threshold)
    assert stored(site, owner, pid, "loop") == loop

    # Emptied, the detector is null again (no pre-labels) and the mapping too.
    detector.fill("")
    segmenter.fill("grabcut")
    threshold.fill("0.35")
    classes.fill("")
    save(form, "Save loop settings")
    form.get_by_text("Saved.").wait_for()
    loop = stored(site, owner, pid, "loop")
    assert (loop["detector"], loop["detector_labels"], loop["segmenter"]) == (None, None, "grabcut")
    # Image encoders are offered on an image project.
    assert "efficientnet-lite3" in form.get_by_label("Encoder of the items").locator("option").evaluate_all(
        "os => os.map(o => o.value)")

    # The quality settings: the F1 from which shapes on a gold image count as right.
    page.goto(f"{site.url}/app/#/p/{pid}/quality")
    quality = page.get_by_role("form", name="quality settings")
    score = quality.get_by_label("Shapes on a gold item count as right from this F1")
    assert score.input_value() == "0.8"
    assert "IoU 0.5" in quality.locator("[data-setting='gold_shape_score'] p.help").inner_text()
    score.fill("0.65")
    save(quality, "Save quality settings")
    quality.get_by_text("Saved.").wait_for()
    assert stored(site, owner, pid, "quality")["gold_shape_score"] == 0.65
    score.fill("1.2")
    save(quality, "Save quality settings")
    assert "less than or equal to 1" in problem_at(quality, "gold_shape_score", score)
    assert stored(site, owner, pid, "quality")["gold_shape_score"] == 0.65

    # A text project shows none of them.
    text_owner, text = project(site, TEXT)
    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, text_owner, f"p/{text}/loop")
    page.get_by_role("button", name="Save loop settings").wait_for()
    for key in ("detector", "detector_question", "detector_labels", "detector_threshold", "segmenter"):
        assert page.locator(f"[data-setting='{key}']").count() == 0
    assert "efficientnet-lite3" not in page.get_by_label("Encoder of the items").locator("option").evaluate_all(
        "os => os.map(o => o.value)")
    page.goto(f"{site.url}/app/#/p/{text}/quality")
    page.get_by_role("button", name="Save quality settings").wait_for()
    assert page.locator("[data-setting='gold_shape_score']").count() == 0
    assert watch.dialogs == [] and watch.errors == []


def answer_all(site: Site, who: Person, pid: int, boxes: dict[str, list[dict[str, Any]]]) -> None:
    while (r := site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers)).status_code == 200:
        task = r.json()
        r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                           json={"value": {"boxes": boxes[task["external_id"]]}})
        assert r.status_code == 201, r.text


def test_the_annotators_table_scores_shapes_on_gold_images(page: Any, site: Site, watch: Watch) -> None:
    ann, bob = site.person("ann"), site.person("bob")
    owner, pid = project(site, SCHEMA, overlap=2, annotators=[ann, bob])
    answer_all(site, ann, pid, GOLD)  # exactly the gold
    answer_all(site, bob, pid, {  # misses the person; a car 10 px short (IoU 0.9)
        "img0.png": [{"label": "car", "box": [100, 100, 300, 250]}],
        "img1.png": [{"label": "car", "box": [50, 50, 150, 140]}],
    })
    set_gold(site, owner, pid)

    log_in(page, site, owner, f"p/{pid}/quality")
    table = page.locator("table.annotators")
    table.wait_for()
    assert "Shapes on gold images" in table.locator("thead").inner_text()
    cell = lambda who: table.locator(f"tr[data-annotator='{who.username}'] td[data-col='gold-shapes']")  # noqa: E731
    assert cell(ann).inner_text() == "F1 1.00, mean IoU 1.00 on 2 gold images (3 matched, 0 missed, 0 extra)"
    # F1 = 2·2 / (2·2 + 0 + 1) = 0.8; the mean IoU of the matched boxes (1 + 0.9) / 2.
    assert cell(bob).inner_text() == "F1 0.80, mean IoU 0.95 on 2 gold images (2 matched, 1 missed, 0 extra)"
    people = {p["username"]: p for p in site.http.get(
        f"/api/projects/{pid}/quality/annotators", headers=owner.headers).json()}
    assert people[bob.username]["gold_shapes"]["boxes"]["f1"] == 0.8

    # No shape question: no column.
    text_owner, text = project(site, TEXT, annotators=[ann])
    site.import_records(text_owner, text, [{"id": "t1", "text": "hello"}])
    task = site.http.post(f"/api/projects/{text}/tasks/next", headers=ann.headers).json()
    r = site.http.post(f"/api/projects/{text}/items/{task['item_id']}/answers", headers=ann.headers,
                       json={"value": {"tone": "calm"}})
    assert r.status_code == 201, r.text
    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, text_owner, f"p/{text}/quality")
    page.locator(f"table.annotators tr[data-annotator='{ann.username}']").wait_for()
    assert "Shapes on gold images" not in page.locator("table.annotators thead").inner_text()
    assert watch.dialogs == [] and watch.errors == []


def test_the_export_menu_offers_the_image_formats_that_fit_and_downloads_a_coco_zip(
    page: Any, site: Site, watch: Watch, tmp_path: Path
) -> None:
    schema = {"fields": [{"name": "photo", "type": "image"}], "questions": [
        BOXES, {"name": "lanes", "label": "Lanes", "type": "polyline", "target": "photo", "labels": ["lane"]}]}
    owner, pid = project(site, schema)
    set_gold(site, owner, pid, lanes=[])
    log_in(page, site, owner, f"p/{pid}/manage")
    menu = page.get_by_role("group", name="image datasets")
    menu.wait_for()
    links = lambda: menu.get_by_role("link").all_inner_texts()  # noqa: E731
    assert links() == ["Download COCO", "Download YOLO", "Download Pascal VOC"]
    for f in ("coco", "yolo", "voc"):
        assert menu.locator(f"li[data-format='{f}'] .about").inner_text()  # a line on each
    assert page.get_by_role("link", name="Download CSV").count() == 1  # the tables stay

    # A polyline question fits COCO only; every annotator's answers do not fit YOLO.
    menu.get_by_label("Shape question").select_option(label="Lanes (polyline)")
    assert links() == ["Download COCO"]
    assert "YOLO cannot hold polyline shapes" in menu.inner_text()
    menu.get_by_label("Shape question").select_option(label="Boxes (bbox)")
    menu.get_by_label("Objects from").select_option("answers")
    assert links() == ["Download COCO", "Download Pascal VOC"]
    assert "YOLO has no place for who drew an object" in menu.inner_text()

    # The gold boxes as COCO, with the images.
    menu.get_by_label("Objects from").select_option("gold")
    coco = menu.get_by_role("link", name="Download COCO")
    query = parse_qs(urlparse(str(coco.get_attribute("href"))).query)
    assert query == {"format": ["coco"], "question": ["boxes"], "source": ["gold"], "images": ["include"]}
    with page.expect_download() as download:
        coco.click()
    data = Path(download.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        assert {"annotations/instances.json", "images/img0.png", "images/img1.png"} <= names
        doc = json.loads(z.read("annotations/instances.json"))
    assert [c["name"] for c in doc["categories"]] == ["car", "person"]
    files = {i["id"]: i["file_name"] for i in doc["images"]}
    got = sorted((files[a["image_id"]], a["bbox"]) for a in doc["annotations"])
    assert got == [("img0.png", [100, 100, 200, 150]), ("img0.png", [400, 80, 60, 160]),
                   ("img1.png", [50, 50, 100, 100])]

    # Without the images: references instead.
    menu.get_by_label("Leave the image files out").check()
    assert "images=refs" in str(coco.get_attribute("href"))

    # A text project offers the tables only.
    text_owner, text = project(site, TEXT)
    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, text_owner, f"p/{text}/manage")
    page.get_by_role("link", name="Download JSONL").wait_for()
    assert page.get_by_role("group", name="image datasets").count() == 0
    assert watch.dialogs == [] and watch.errors == []
