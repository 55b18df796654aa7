"""Media fields in a real browser: safe references become <img>/<audio>/<video>, others never load;
stored images (`blob:<sha256>`) load from the server as previews, and as thumbnails in lists."""

from __future__ import annotations

import base64
from typing import Any

from tests.platform.pictures import jpeg, sha, zipped
from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "photo", "type": "image", "label": "Photo"},
               {"name": "clip", "type": "audio", "required": False},
               {"name": "film", "type": "video", "required": False}],
    "questions": [{"name": "ok", "type": "choice", "options": ["yes", "no"]}],
}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
UNSAFE = [
    "javascript:alert(1)",
    "  JaVaScRiPt:alert(2)",
    "java\tscript:alert(3)",
    "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload='alert(4)'/>",
    "//user:pw@example.org/x.png",
]


def test_media_fields_load_only_safe_references(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    site.import_records(owner, pid, [
        {"id": "safe", "priority": 10, "photo": "https://media.example.org/cat.png", "clip": "/media/purr.ogg",
         "film": "https://media.example.org/cat.mp4"},
        *({"id": f"bad{n}", "photo": ref} for n, ref in enumerate(UNSAFE)),
    ])
    ids = {i["external_id"]: i["id"] for i in site.http.get(
        f"/api/projects/{pid}/items", headers=owner.headers).json()}
    csp = site.http.get("/app/").headers["content-security-policy"]
    assert "img-src 'self' data: https:" in csp and "media-src 'self' https:" in csp

    fetched: list[str] = []

    def media_host(route: Any) -> None:
        fetched.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=PNG)

    page.route("https://media.example.org/**", media_host)  # nothing leaves the test machine
    log_in(page, site, ann, f"p/{pid}/label")  # the annotator's workbench shows the first item
    image = page.get_by_role("img", name="Photo")
    image.wait_for()
    assert image.get_attribute("src") == "https://media.example.org/cat.png"
    wait_until(page, "document.querySelector('img.media').complete")
    assert page.evaluate("document.querySelector('img.media').naturalWidth") == 1  # the CSP let it load
    audio, video = page.locator("audio.media"), page.locator("video.media")
    assert audio.get_attribute("src") == f"{site.url}/media/purr.ogg"  # a relative path, on this origin
    assert audio.get_attribute("controls") is not None and video.get_attribute("controls") is not None
    assert video.get_attribute("src") == "https://media.example.org/cat.mp4"
    assert "https://media.example.org/cat.png" in fetched

    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, owner)
    for n, ref in enumerate(UNSAFE):
        page.goto(f"{site.url}/app/#/p/{pid}/items/{ids[f'bad{n}']}")
        refused = page.locator("[data-refused]")
        refused.wait_for()
        assert "is not shown" in refused.inner_text()
        assert page.locator("main img, main audio, main video").count() == 0, ref
    page.wait_for_timeout(300)  # give a planted handler every chance to fire
    assert watch.dialogs == [] and watch.errors == []


def test_stored_images_load_through_the_project_for_its_members(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    photo = jpeg(3000, 1500)
    r = site.http.post(f"/api/projects/{pid}/imports", params={"filename": "photos.zip", "wait": "true"},
                       content=zipped({"big.jpg": photo}), headers=owner.headers)
    assert r.status_code == 201, r.text
    # A browser's own blob: URL is not a stored file: the server refuses it at import.
    refused = site.http.post(f"/api/projects/{pid}/imports", params={"filename": "x.jsonl", "wait": "true"},
                             content=b'{"photo": "blob:https://example.org/0b5c"}\n', headers=owner.headers)
    assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["field"] == "photo"
    digest = sha(photo)

    log_in(page, site, ann, f"p/{pid}/label")
    image = page.get_by_role("img", name="Photo")
    image.wait_for()
    assert image.get_attribute("src") == f"{site.url}/api/projects/{pid}/blobs/{digest}?variant=preview"
    wait_until(page, "document.querySelector('img.media').complete")
    # The session cookie took it through the role check; the preview is 2048 px wide, not 3000.
    assert page.evaluate("document.querySelector('img.media').naturalWidth") == 2048

    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, owner, f"p/{pid}/items")
    thumb = page.locator("table.data img.thumb")
    thumb.wait_for()
    assert thumb.get_attribute("src") == f"{site.url}/api/projects/{pid}/blobs/{digest}?variant=thumb"
    wait_until(page, "document.querySelector('img.thumb').complete")
    assert page.evaluate("document.querySelector('img.thumb').naturalWidth") == 256
    assert "blob:" not in page.locator("table.data tbody").inner_text()  # the thumbnail, not the hash

    # Someone outside the project gets nothing, though the address is the same.
    outsider = site.person("out")
    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, outsider)
    status = page.evaluate(
        f"fetch('/api/projects/{pid}/blobs/{digest}?variant=preview').then(r => r.status)")
    assert status == 404
    assert watch.dialogs == [] and watch.errors == []
