"""The export menu on an audio project, in a real browser: the audio formats offered for the chosen
segments question and source (only NeMo names who marked what; RTTM only for labels without
spaces), and a WebVTT zip downloaded with the gold segments as cues beside the audio file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.platform.sounds import sound
from tests.web.canvas_page import import_images
from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import log_in

SCHEMA: dict[str, Any] = {"fields": [{"name": "clip", "type": "audio"}], "questions": [
    {"name": "turns", "label": "Turns", "type": "audio_segments", "target": "clip", "labels": ["spk_a", "spk_b"],
     "transcript": True},
    {"name": "events", "label": "Events", "type": "audio_segments", "target": "clip", "labels": ["door bell"]},
]}


def test_the_export_menu_offers_the_audio_formats_that_fit_and_downloads_webvtt(
    page: Any, site: Site, watch: Watch, tmp_path: Path
) -> None:
    owner = site.person("owner")
    pid = site.project(owner, SCHEMA)
    import_images(site, owner, pid, {"calls/a.wav": sound("wav", 2.0)})
    item = site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]["id"]
    gold = {"turns": [{"start": 0.25, "end": 1.5, "label": "spk_b", "text": "fish & chips"}], "events": []}
    r = site.http.put(f"/api/projects/{pid}/items/{item}/gold", headers=owner.headers, json={"value": gold})
    assert r.status_code == 200, r.text

    log_in(page, site, owner, f"p/{pid}/manage")
    menu = page.get_by_role("group", name="audio datasets")
    menu.wait_for()
    links = lambda: menu.get_by_role("link").all_inner_texts()  # noqa: E731
    assert links() == ["Download NeMo manifest", "Download SRT", "Download WebVTT", "Download RTTM"]
    assert page.get_by_role("group", name="image datasets").count() == 0
    menu.get_by_label("Segments from").select_option("answers")
    assert links() == ["Download NeMo manifest"]
    assert "SRT has no place for who marked a segment" in menu.inner_text()
    menu.get_by_label("Segments question").select_option(label="Events")
    menu.get_by_label("Segments from").select_option("consensus")
    assert links() == ["Download NeMo manifest", "Download SRT", "Download WebVTT"]
    assert "RTTM cannot hold a label with a space" in menu.inner_text()

    menu.get_by_label("Segments question").select_option(label="Turns")
    menu.get_by_label("Segments from").select_option("gold")
    vtt = menu.get_by_role("link", name="Download WebVTT")
    query = parse_qs(urlparse(str(vtt.get_attribute("href"))).query)
    assert query == {"format": ["webvtt"], "question": ["turns"], "source": ["gold"], "images": ["include"]}
    with page.expect_download() as download:
        vtt.click()
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as z:
        assert sorted(z.namelist()) == ["calls/a.vtt", "calls/a.wav"]
        assert z.read("calls/a.vtt") == b"WEBVTT\n\n00:00:00.250 --> 00:00:01.500\n<v spk_b>fish &amp; chips\n"
    menu.get_by_label("Leave the audio files out").check()
    assert "images=refs" in str(vtt.get_attribute("href"))
    assert watch.dialogs == [] and watch.errors == []
