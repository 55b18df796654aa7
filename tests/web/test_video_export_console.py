"""The export menu on a video project, in a real browser: the video formats offered for the chosen
tracks question and source (only CVAT and the YouTube-VIS JSON name who drew what), and a CVAT zip
downloaded with the gold tracks beside the video file."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from labelloop.services.video import testcard
from tests.web.canvas_page import import_images
from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import log_in

SCHEMA: dict[str, Any] = {"fields": [{"name": "clip", "type": "video"}], "questions": [
    {"name": "objects", "label": "Objects", "type": "video_tracks", "target": "clip", "labels": ["car", "person"]},
]}


def test_the_export_menu_offers_the_video_formats_that_fit_and_downloads_cvat(
    page: Any, site: Site, watch: Watch, tmp_path: Path
) -> None:
    owner = site.person("owner")
    pid = site.project(owner, SCHEMA)
    card = testcard.write_video(tmp_path / "a.mp4", 12, width=160, height=120)
    import_images(site, owner, pid, {"clips/a.mp4": card.path.read_bytes()})
    item = site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]["id"]
    track = {"id": "t1", "label": "person", "keyframes": [
        {"frame": 2, "box": [10, 10, 50, 60], "outside": False, "occluded": False},
        {"frame": 8, "box": [40, 10, 80, 60], "outside": True, "occluded": False}]}
    r = site.http.put(f"/api/projects/{pid}/items/{item}/gold", headers=owner.headers,
                      json={"value": {"objects": {"tracks": [track], "shapes": []}}})
    assert r.status_code == 200, r.text

    log_in(page, site, owner, f"p/{pid}/manage")
    menu = page.get_by_role("group", name="video datasets")
    menu.wait_for()
    links = lambda: menu.get_by_role("link").all_inner_texts()  # noqa: E731
    assert links() == ["Download MOT Challenge", "Download CVAT for video", "Download YouTube-VIS JSON",
                       "Download YOLO per frame"]
    menu.get_by_label("Tracks from").select_option("answers")
    assert links() == ["Download CVAT for video", "Download YouTube-VIS JSON"]
    assert "MOT Challenge has no place for who drew a track" in menu.inner_text()

    menu.get_by_label("Tracks from").select_option("gold")
    cvat = menu.get_by_role("link", name="Download CVAT for video")
    query = parse_qs(urlparse(str(cvat.get_attribute("href"))).query)
    assert query == {"format": ["cvat"], "question": ["objects"], "source": ["gold"], "images": ["include"]}
    with page.expect_download() as download:
        cvat.click()
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as z:
        assert sorted(z.namelist()) == ["clips/a.mp4", "clips/a.xml"]
        root = ET.fromstring(z.read("clips/a.xml"))
    boxes = root.findall("track/box")
    assert [(b.get("frame"), b.get("keyframe"), b.get("outside")) for b in boxes] == [
        ("2", "1", "0"), *[(str(f), "0", "0") for f in range(3, 8)], ("8", "1", "1")]
    menu.get_by_label("Leave the video files out").check()
    assert "images=refs" in str(cvat.get_attribute("href"))
    assert watch.dialogs == [] and watch.errors == []
