"""Transcript quality on the quality page, in a real browser (docs/quality.md, "Transcripts on the
platform"): per transcript question the WER between annotators and, for segments, their F1 and IoU in
the agreement table; the items annotators disagree on most, linked to their item page (a hostile item
id shown as text); each annotator's WER against the consensus and on gold clips, in the table and as
bars; and the gold WER setting in the quality settings form, saved or refused with the server's
problem under it.

The project is made by hand so every figure is known: three annotators transcribe two clips and one
gold clip, each answer given twice (the whole file's `said`, and the same words as `turns` segments).
"""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [
        {"name": "turns", "label": "Turns", "type": "audio_segments", "target": "clip",
         "labels": ["speech", "noise"], "transcript": True},
        {"name": "said", "label": "Said", "type": "text", "required": False},
    ],
}
HOSTILE = "<img src=x onerror=alert(1)>"  # an item id, shown as text in the worst items
GOLD_WORDS = ("one two three four five", "six seven eight nine ten")
NONE = "\u2013"  # what the page writes for a figure that does not apply


def seg(start: float, end: float, text: str) -> dict[str, Any]:
    return {"start": start, "end": end, "label": "speech", "text": text}


def answer(*segments: dict[str, Any], said: str | None = None) -> dict[str, Any]:
    return {"turns": list(segments), "said": said if said is not None else " ".join(s["text"] for s in segments)}


# What each annotator types: on `x1` all three the same words (bob's segment ends early: IoU 0.8 with
# the others'); on the hostile clip cat mishears one word of four; on gold ann types the gold with
# other case and punctuation, bob mishears one word of ten, cat stops after three.
ANSWERS: dict[str, dict[str, dict[str, Any]]] = {
    "ann": {"x1": answer(seg(0, 1, "the cat sat")), HOSTILE: answer(seg(0, 2, "a b c d")),
            "gold": answer(seg(0, 2, GOLD_WORDS[0]), seg(2, 4, GOLD_WORDS[1]),
                           said="One, two, three four five. Six seven eight nine TEN!")},
    "bob": {"x1": answer(seg(0, 0.8, "the cat sat")), HOSTILE: answer(seg(0, 2, "a b c d")),
            "gold": answer(seg(0, 2, GOLD_WORDS[0]), seg(2, 4, "six seven eight nine then"))},
    "cat": {"x1": answer(seg(0, 1, "the cat sat")), HOSTILE: answer(seg(0, 2, "a b x d")),
            "gold": answer(seg(0, 2, "one two three"))},
}


def transcribed_project(site: Site) -> tuple[Person, dict[str, Person], int, dict[str, int]]:
    owner = site.person("owner")
    people = {name: site.person(name) for name in ANSWERS}
    pid = site.project(owner, SCHEMA, overlap=3, members={"annotator": list(people.values())})
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={"quality": {
        "gold_first": 1, "gold_rate": 0.0, "review_below": 0.0, "trust_min_accuracy": None}})
    assert r.status_code == 200, r.text
    site.import_records(owner, pid, [
        {"id": "gold", "clip": "https://media.example/gold.wav",
         "gold": answer(seg(0, 2, GOLD_WORDS[0]), seg(2, 4, GOLD_WORDS[1]))},
        {"id": "x1", "clip": "https://media.example/x1.wav"},
        {"id": HOSTILE, "clip": "https://media.example/x2.wav"},
    ])
    ids: dict[str, int] = {}
    for name, person in people.items():
        while (t := site.http.post(f"/api/projects/{pid}/tasks/next", headers=person.headers)).status_code == 200:
            task = t.json()
            ids[task["external_id"]] = int(task["item_id"])
            r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=person.headers,
                               json={"value": ANSWERS[name][task["external_id"]]})
            assert r.status_code == 201, r.text
    assert set(ids) == {"gold", "x1", HOSTILE}
    return owner, people, pid, ids


def cell(row: Any, col: str) -> str:
    return str(row.locator(f"td[data-col='{col}']").inner_text()).strip()


def test_the_quality_page_shows_transcript_agreement_worst_items_and_each_annotators_wer(
    page: Any, site: Site, watch: Watch
) -> None:
    owner, people, pid, ids = transcribed_project(site)
    log_in(page, site, owner, f"p/{pid}/quality")
    table = page.get_by_role("table", name="Agreement per question")
    table.wait_for()

    # Pairwise WER, by hand: x1 no error in 3 pairs of 3 words; the hostile clip cat's one error
    # against ann and against bob, 3 pairs of 4 words: 2 / (9 + 12) = 9.5%. Segments: every pair
    # matched (F1 1); IoUs x1 0.8, 1, 0.8, the other clip 1, 1, 1: mean 0.93.
    turns, said = table.locator("tr", has_text="Turns"), table.locator("tr", has_text="Said")
    assert cell(turns, "wer") == "9.5%" and cell(said, "wer") == "9.5%"
    assert (cell(turns, "segment_f1"), cell(turns, "segment_iou")) == ("1.00", "0.93")
    assert (cell(said, "segment_f1"), cell(said, "segment_iou")) == (NONE, NONE)
    assert turns.locator("td[data-col='wer']").get_attribute("title") == \
        "pooled over every pair of annotators; mean over items 8.3%"  # (0 + 2/12) / 2

    # The worst items: only the clip they disagree on (x1 has no error), 2 / 12, linked to its page,
    # its hostile id written as text.
    worst = page.locator("table.worst-items[data-question='turns'] tbody tr")
    assert worst.count() == 1
    assert worst.locator("td").all_inner_texts() == ["16.7%", "3"]
    link = worst.get_by_role("link")
    assert link.inner_text() == HOSTILE and page.locator("img[src='x']").count() == 0
    assert link.get_attribute("href") == f"#/p/{pid}/items/{ids[HOSTILE]}"
    assert page.get_by_role("table", name="Said: items annotators disagree on most").locator("tbody tr").count() == 1

    # Per annotator, against the consensus ("a b c d": two of three) and on the gold clip.
    rows = page.get_by_role("table", name="Annotators")
    expected = {
        "ann": ["WER 0.0% vs consensus on 2 clips", "WER 0.0% vs gold on 1 gold clip",
                "segments on gold: F1 1.00, mean IoU 1.00 (2 matched, 0 missed, 0 extra)"],
        "bob": ["WER 0.0% vs consensus on 2 clips", "WER 10.0% vs gold on 1 gold clip",
                "segments on gold: F1 1.00, mean IoU 1.00 (2 matched, 0 missed, 0 extra)"],
        "cat": ["WER 14.3% vs consensus on 2 clips", "WER 70.0% vs gold on 1 gold clip",  # 1/7; 7 of 10 left out
                "segments on gold: F1 0.67, mean IoU 1.00 (1 matched, 1 missed, 0 extra)"],
    }
    for name, lines in expected.items():
        row = rows.locator(f"tr[data-annotator='{people[name].username}']")
        turns_cell = row.locator("td[data-col='transcripts'] li[data-question='turns']")
        assert turns_cell.locator("[data-score]").all_inner_texts() == lines
        assert turns_cell.locator(".q").text_content() == "Turns: "  # named: the project has two
        said_cell = row.locator("td[data-col='transcripts'] li[data-question='said']")
        # The whole file's text has no segments; ann's case and punctuation cost nothing.
        assert said_cell.locator("[data-score]").all_inner_texts() == lines[:2]

    # The same numbers as bars, one per annotator, the figure in each bar's tooltip.
    chart = page.locator(".transcript-charts[data-question='turns']")
    consensus_bars = chart.get_by_role("img", name="Turns: WER against the consensus per annotator")
    gold_bars = chart.get_by_role("img", name="Turns: WER on gold clips per annotator")
    for bars, name, figure in ((consensus_bars, "cat", "14.3%"), (gold_bars, "bob", "10.0%"), (gold_bars, "cat", "70.0%")):
        title = bars.locator(f"g.bar[data-label='{people[name].username}'] rect title").text_content()
        assert title.startswith(f"{people[name].username}: WER {figure} against the "), title
    assert gold_bars.locator("g.bar").count() == 3
    screenshot(page, "quality-transcripts")

    # The worst item's link opens its item page.
    link.click()
    page.wait_for_url(f"**/#/p/{pid}/items/{ids[HOSTILE]}")
    page.get_by_text(HOSTILE).first.wait_for()
    assert page.locator("img[src='x']").count() == 0
    assert watch.dialogs == [] and watch.errors == []


def problem_at(form: Any, key: str, control: Any) -> str:
    """The server's problem shown under a setting, tied to its field; returns its text."""
    problem = form.locator(f"[data-setting='{key}'] p.error")
    problem.wait_for()
    assert control.get_attribute("aria-invalid") == "true"
    assert problem.get_attribute("id") in (control.get_attribute("aria-describedby") or "").split()
    return str(problem.text_content())


def test_the_gold_wer_setting_decides_which_typed_transcripts_pass_on_gold(
    page: Any, site: Site, watch: Watch
) -> None:
    owner, people, pid, _ = transcribed_project(site)
    log_in(page, site, owner, f"p/{pid}/quality")
    rows = page.get_by_role("table", name="Annotators")
    gold = {name: rows.locator(f"tr[data-annotator='{p.username}'] td").nth(2) for name, p in people.items()}
    # At the default (0: the same words), ann's case and punctuation pass; bob's one word in ten does not
    # (his segments match the gold's, whatever their words: the label type's rule).
    gold["ann"].get_by_text("1 of 1").wait_for()
    assert gold["bob"].inner_text().endswith("0 of 1") and gold["cat"].inner_text().endswith("0 of 1")

    form = page.get_by_role("form", name="quality settings")
    field = form.get_by_label("Typed transcripts on a gold clip count as right up to this word error rate")
    assert field.input_value() == "0"
    assert "one word wrong in ten passes" in form.locator(f"#{field.get_attribute('aria-describedby')}").inner_text()

    # Out of range: the server's problem under the setting, nothing stored.
    field.fill("1.5")
    form.get_by_role("button", name="Save quality settings").click()
    assert "less than or equal to 1" in problem_at(form, "gold_max_wer", field)
    assert site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["quality"]["gold_max_wer"] == 0.0

    field.fill("0.1")
    with page.expect_response(lambda r: r.request.method == "PATCH") as sent:
        form.get_by_role("button", name="Save quality settings").click()
    assert sent.value.request.post_data_json == {"quality": {"gold_max_wer": 0.1}}
    form.get_by_text("Saved.").wait_for()
    assert site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["quality"]["gold_max_wer"] == 0.1

    # The report scores with the setting: bob's ten words with one wrong now pass; cat's three of ten do not.
    page.reload()
    gold["bob"].get_by_text("1 of 1").wait_for()
    assert gold["ann"].inner_text().endswith("1 of 1") and gold["cat"].inner_text().endswith("0 of 1")
    assert watch.dialogs == [] and watch.errors == []
