"""The manager's console for language-model feedback (docs/feedback.md, "Console"), in a real
browser: the training exports (offered by the schema's questions; DPO JSONL and a Hugging Face zip
downloaded and opened, the server's summary shown), the item page (candidates as Markdown, inert
when hostile, with their model and meta for reviewers), the generation settings and job (against a
model server of the test's own) and the new project's preview with sample candidates."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from labelloop.services.exporting.feedback.plan import FORMATS, NEEDS
from labelloop.services.generation.settings import GenerationSettings
from tests.web.conftest import Watch
from tests.web.feedback_items import schema_with
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_feedback_hostile import HOSTILE
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

PREF: dict[str, Any] = {"name": "better", "type": "preference", "target": "responses", "required": False}
SAFER: dict[str, Any] = {"name": "safer", "type": "preference", "target": "responses", "required": False}
QUALITY: dict[str, Any] = {"name": "quality", "type": "criteria", "target": "responses", "required": False,
           "criteria": [{"name": "helpful"}, {"name": "correct"}]}
FIX: dict[str, Any] = {"name": "fix", "type": "rewrite", "target": "responses", "required": False}


def candidates(*texts: str) -> list[dict[str, Any]]:
    return [{"id": f"r{i + 1}", "content": t, "model": f"model-{i + 1}", "meta": {}} for i, t in enumerate(texts)]


def items_by_external_id(site: Site, who: Person, pid: int) -> dict[str, dict[str, Any]]:
    r = site.http.get(f"/api/projects/{pid}/items", params={"limit": 100}, headers=who.headers)
    assert r.status_code == 200, r.text
    return {i["external_id"]: i for i in r.json()}


def labelled_project(site: Site, schema: dict[str, Any]) -> tuple[Person, int]:
    """Three items of two candidates, each preferred r1 over r2 by three annotators (whichever side
    it was shown on) and rated; the first one's r2 rewritten."""
    owner = site.person("owner")
    people = [site.person("ann") for _ in range(3)]
    pid = site.project(owner, schema, overlap=3, members={"annotator": people})
    site.import_records(owner, pid, [
        {"id": f"i{n}", "prompt": f"Question {n}?", "responses": candidates(f"good answer {n}", f"bad answer {n}")}
        for n in range(3)])
    for k, who in enumerate(people):
        for _ in range(3):
            t = site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers).json()
            left, right = ("r1", "r2") if k % 2 == 0 else ("r2", "r1")
            value: dict[str, Any] = {
                "better": {"left": left, "right": right, "winner": "left" if left == "r1" else "right"},
                "quality": {"r1": {"helpful": 5, "correct": 4}, "r2": {"helpful": 2, "correct": 1}},
            }
            if "safer" in {q["name"] for q in schema["questions"]}:
                value["safer"] = {"left": "r1", "right": "r2", "winner": "tie"}
            if t["external_id"] == "i0":
                value["fix"] = {"response": "r2", "text": "a good answer 0"}
            r = site.http.post(f"/api/projects/{pid}/items/{t['item_id']}/answers", headers=who.headers,
                               json={"value": value})
            assert r.status_code == 201, r.text
    return owner, pid


def save(page: Any, form: Any) -> int:
    """Save the generation settings; the server's answer's status, once the page has it."""
    with page.expect_response(lambda r: r.request.method == "PATCH" and r.url.endswith("/generation/settings")) as r:
        form.get_by_role("button", name="Save generation settings").click()
    return int(r.value.status)


def download(page: Any, button: Any) -> bytes:
    with page.expect_download() as d:
        button.click()
    return Path(d.value.path()).read_bytes()


def test_the_export_menu_offers_training_formats_by_question_and_downloads_dpo_and_hf(
    page: Any, site: Site, watch: Watch
) -> None:
    owner, pid = labelled_project(site, schema_with(PREF, SAFER, QUALITY, FIX))
    log_in(page, site, owner, f"p/{pid}/manage")
    menu = page.get_by_role("group", name="training data")
    menu.wait_for()
    assert menu.get_by_role("button").all_inner_texts() == [
        "Download DPO pairs", "Download SFT conversations", "Download Ratings (CSV)",
        "Download Ratings (Parquet)", "Download Hugging Face dataset"]
    for f in ("dpo", "sft", "ratings", "ratings-parquet", "hf"):
        assert menu.locator(f"li[data-format='{f}'] .about").inner_text()  # a line on each
    assert page.get_by_role("link", name="Download JSONL").count() == 1  # the tables stay

    # Two preference questions: DPO and the dataset must name one; SFT may take all of them.
    dpo = menu.locator("li[data-format='dpo']")
    def options(li: Any) -> list[str]:
        return list(li.get_by_label("Question").locator("option").all_inner_texts())

    assert options(dpo) == ["better (preference)", "safer (preference)"]
    assert options(menu.locator("li[data-format='sft']")) == [
        "all of them", "better (preference)", "safer (preference)", "fix (rewrite)"]
    assert options(menu.locator("li[data-format='ratings']")) == []  # one criteria question: nothing to choose

    data = download(page, dpo.get_by_role("button"))
    rows = [json.loads(line) for line in data.decode().splitlines()]
    assert len(rows) == 3
    assert {(r["prompt"], r["chosen"], r["rejected"]) for r in rows} == {
        (f"Question {n}?", f"good answer {n}", f"bad answer {n}") for n in range(3)}
    assert all(r["margin"] > 0 and (r["chosen_id"], r["rejected_id"]) == ("r1", "r2") for r in rows)
    said = dpo.get_by_role("status").filter(has_text="Downloaded.")  # said once the file is handed over
    said.wait_for()
    assert said.inner_text().startswith("Downloaded. 3 DPO pairs from 9 comparisons of “better”")
    assert "3 annotators, 9 answers" in said.inner_text()

    # The other question's answers are all ties: nothing to learn from, and the summary says why.
    dpo.get_by_label("Question").select_option("safer")
    assert download(page, dpo.get_by_role("button")) == b""
    dpo.get_by_role("status").filter(has_text="0 DPO pairs from 9 comparisons of “safer”; left out: 3 ties").wait_for()

    hf = menu.locator("li[data-format='hf']")
    licence = hf.get_by_label("Licence of the dataset card")
    assert licence.input_value() == "other"
    licence.fill("Not a licence!")
    hf.get_by_role("button").click()
    refused = hf.get_by_role("alert")
    refused.wait_for()
    assert "Not downloaded" in refused.inner_text() and "license" in refused.inner_text()

    licence.fill("cc-by-4.0")
    with zipfile.ZipFile(io.BytesIO(download(page, hf.get_by_role("button")))) as z:
        names = z.namelist()
        card = z.read("README.md").decode()
        shards = {n.split("/")[1]: pq.read_table(io.BytesIO(z.read(n))).to_pylist()
                  for n in names if n.endswith(".parquet")}
    assert names[-1] == "README.md"
    header = yaml.safe_load(card.split("---")[1])
    assert header["license"] == "cc-by-4.0"
    assert {c["config_name"] for c in header["configs"]} == {"dpo", "sft", "ratings"} == set(shards)
    assert "data/dpo/train-00000-of-00001.parquet" in names
    assert sorted(r["chosen"] for r in shards["dpo"]) == [f"good answer {n}" for n in range(3)]
    assert {r["source"] for r in shards["sft"]} == {"preference", "rewrite"}
    assert len(shards["ratings"]) == 3 * 2 * 2  # items, responses, criteria
    done = hf.get_by_role("status").filter(has_text="Downloaded.")
    done.wait_for()
    summary = done.inner_text()
    assert "3 DPO pairs" in summary and "SFT conversations" in summary and "12 rating rows" in summary
    assert watch.dialogs == [] and watch.errors == []


BUTTONS = {"dpo": "DPO pairs", "sft": "SFT conversations", "ratings": "Ratings (CSV)",
           "ratings-parquet": "Ratings (Parquet)", "hf": "Hugging Face dataset"}


def test_only_the_formats_the_questions_make_are_offered(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    log_in(page, site, owner)
    one_of_each: list[dict[str, Any]] = [PREF, {"name": "order", "type": "ranking", "target": "responses"}, QUALITY, FIX,
                   {"name": "flags", "type": "response_spans", "target": "responses", "labels": ["wrong"]}]
    for question in one_of_each:
        pid = site.project(owner, schema_with(question))
        name = site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["name"]
        page.goto(f"{site.url}/app/#/p/{pid}/manage")
        page.get_by_role("heading", name=name, exact=True).wait_for()  # this project's page, not the last one's
        page.get_by_role("link", name="Download JSONL").wait_for()
        # the server's table decides (services/exporting/feedback/plan.py)
        expected = [f"Download {BUTTONS[f]}" for f in FORMATS if question["type"] in NEEDS[f]]
        assert page.get_by_role("group", name="training data").get_by_role("button").all_inner_texts() == expected
        assert page.get_by_label("Question").count() == 0  # one question: nothing to choose

    plain = site.project(owner, {"fields": [{"name": "text", "type": "text"}],
                                 "questions": [{"name": "ok", "type": "choice", "options": ["y", "n"]}]})
    name = site.http.get(f"/api/projects/{plain}", headers=owner.headers).json()["name"]
    page.goto(f"{site.url}/app/#/p/{plain}/manage")
    page.get_by_role("heading", name=name, exact=True).wait_for()
    page.get_by_role("link", name="Download JSONL").wait_for()
    assert page.get_by_role("group", name="training data").count() == 0
    assert page.get_by_role("heading", name="Candidates from your model").count() == 0  # no responses field
    assert watch.dialogs == [] and watch.errors == []


def test_the_item_page_renders_candidates_as_inert_markdown_with_their_model_and_meta(
    page: Any, site: Site, watch: Watch
) -> None:
    owner = site.person("owner")
    reviewer = site.person("rev")
    ann = site.person("ann")
    pid = site.project(owner, schema_with(PREF), members={"reviewer": [reviewer], "annotator": [ann]})
    meta = {"parameters": {"temperature": 0.7, "top_p": 1.0, "max_tokens": 256, "system_prompt": None},
            "finish_reason": "stop", "usage": {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46},
            "seconds": 1.234, "generated_at": "2024-05-01T12:00:00.000Z", "job_id": 7,
            "<img src=x onerror=alert(1)>": "<script>alert(2)</script>"}
    site.import_records(owner, pid, [{"id": "h", "prompt": "Be **nice**. <b>bold?</b>", "responses": [
        {"id": "r1", "content": HOSTILE, "model": "<i>evil-model</i>", "meta": meta},
        {"id": "r2", "content": "**plain** answer", "model": "llama-3-8b"},
        {"id": "r3", "content": "no model recorded"}]}])
    iid = items_by_external_id(site, owner, pid)["h"]["id"]
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(site.url) else None)

    log_in(page, site, reviewer, f"p/{pid}/items/{iid}")
    panes = page.locator("article.candidate")
    page.locator(".candidate[data-response='r1'] .md .md-raw").first.wait_for()
    # the item's own order, each under its id, with who wrote it
    assert [panes.nth(i).get_attribute("data-response") for i in range(panes.count())] == ["r1", "r2", "r3"]
    assert panes.locator(".candidate-name").all_inner_texts() == ["Response r1", "Response r2", "Response r3"]
    assert panes.locator(".candidate-note").all_inner_texts() == [
        "model: <i>evil-model</i>", "model: llama-3-8b", "model not recorded"]
    line = page.locator(".candidate[data-response='r1'] .candidate-meta").inner_text()
    for part in ("temperature 0.7", "top_p 1", "max_tokens 256", "finished: stop", "tokens 12 in, 34 out",
                 "1.23 s", "job 7", "<img src=x onerror=alert(1)>: <script>alert(2)</script>"):
        assert part in line, part
    assert "system prompt" not in line  # null: not said
    assert page.locator(".candidate[data-response='r2'] .candidate-meta").count() == 0  # no meta, no line
    assert page.locator(".candidate[data-response='r2'] .md strong").inner_text() == "plain"
    assert page.locator(".prompt strong").inner_text() == "nice"  # the prompt as Markdown too
    assert "<b>bold?</b>" in page.locator(".prompt").inner_text()

    # hostile content is text: nothing runs, nothing loads, the only link is the safe one
    hostile = page.locator(".candidate[data-response='r1']").inner_text()
    for visible in ("<script>alert('script')</script>", "<img src=x onerror=alert('img')>",
                    "md link (javascript:alert('md'))", "[image: tracker] (https://evil.example/pixel.png)"):
        assert visible in hostile, visible
    main = page.locator("main.item-detail")
    assert main.locator("script, img, iframe, object, embed, i, [onerror], [onmouseover]").count() == 0
    links = main.locator(".candidates a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == ["https://example.org/docs"]
    screenshot(page, "console-item-responses")
    page.locator(".candidate[data-response='r1']").get_by_text("md link").click()
    page.get_by_role("button", name="Stacked").click()  # the shared layout toggle works here too
    page.locator(".candidates.stacked").wait_for()
    assert elsewhere == [] and watch.dialogs == [] and watch.errors == []

    # annotators never get this page, nor the item with its models
    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, ann)
    page.goto(f"{site.url}/app/#/p/{pid}/items/{iid}")
    page.get_by_role("alert").filter(has_text="You need the reviewer role").wait_for()
    assert page.locator("article.candidate").count() == 0
    assert "llama-3-8b" not in page.locator("body").inner_text()


# A job writes its progress at most every 0.25 s (services/jobs.py: Progress) but always its first
# report, made before any request is sent: an answer this much later is always recorded.
PAST_THROTTLE_S = 0.3


@dataclass
class Stub:
    """An OpenAI-compatible chat completions server: answers `n` choices at once, except that a
    request about a prompt in `held` waits until `release` is set, and one in `late` waits
    PAST_THROTTLE_S (so the test sees the job midway)."""

    held: set[str] = field(default_factory=set)
    late: set[str] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)
    seen: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        self.seen.append(body)
        prompt = str(body["messages"][-1]["content"])
        if prompt in self.held:
            self.release.wait(30)
        if prompt in self.late:
            threading.Event().wait(PAST_THROTTLE_S)
        n = int(body.get("n", 1))
        return {"id": "cmpl", "object": "chat.completion", "model": "stub-served-model",
                "choices": [{"index": i, "message": {"role": "assistant", "content": f"**answer {i}** to {prompt}"},
                             "finish_reason": "stop"} for i in range(n)],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3 * n, "total_tokens": 5 + 3 * n}}


@pytest.fixture
def stub() -> Iterator[tuple[Stub, str]]:
    s = Stub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, doc = (200, s.answer(body)) if self.path == "/v1/chat/completions" else (404, {"error": {}})
            raw = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield s, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        s.release.set()
        server.shutdown()
        server.server_close()


def test_generation_settings_and_a_job_that_fills_three_items(
    page: Any, site: Site, watch: Watch, stub: tuple[Stub, str]
) -> None:
    server, url = stub
    owner = site.person("owner")
    schema = {"fields": [{"name": "prompt", "type": "text", "label": "Prompt"},
                         {"name": "responses", "type": "responses", "required": False}],
              "questions": [PREF]}
    pid = site.project(owner, schema)
    site.import_records(owner, pid, [{"id": f"g{n}", "prompt": f"prompt {n}"} for n in range(3)])
    log_in(page, site, owner, f"p/{pid}/manage")
    form = page.get_by_role("form", name="generation settings")
    form.wait_for()
    assert "No model server is named yet" in page.get_by_test_id("generation-endpoint").inner_text()
    assert page.get_by_test_id("api-key-status").inner_text() == "No key is sent."
    for label in ("Model server URL", "Environment variable holding the API key", "Candidates per item (K)",
                  "Temperature", "Top p", "Most tokens per candidate", "System prompt", "Prompt field",
                  "Responses field", "Rate limit (requests per second)", "Requests in flight at once",
                  "Timeout of a request (seconds)", "Retries of a request", "First retry\u2019s delay (seconds)"):
        assert form.get_by_label(label).count() == 1, label
    keys = form.locator("[data-setting]")  # every key of the server's settings
    assert {keys.nth(i).get_attribute("data-setting") for i in range(keys.count())} == \
        set(GenerationSettings.model_fields)
    assert form.get_by_label("Prompt field").locator("option").all_inner_texts() == ["the first: Prompt", "Prompt (prompt)"]
    assert form.get_by_label("Candidates per item (K)").input_value() == "4"  # the server's defaults

    # Not set up yet: the job is refused at once, naming what is missing.
    generate = page.get_by_role("button", name="Generate candidates")
    generate.click()
    refused = page.locator(".generate-run [role='alert']")
    refused.wait_for()
    assert "generation.base_url" in refused.inner_text() and "generation.model" in refused.inner_text()

    # The server's problems go under their settings; nothing is saved.
    form.get_by_label("Model server URL").fill("ftp://nowhere")
    form.get_by_label("Temperature").fill("5")
    form.get_by_label("Environment variable holding the API key").fill("DATABASE_URL")
    assert save(page, form) == 422
    form.locator("[data-setting='temperature'] .error").wait_for()
    for key in ("base_url", "temperature", "api_key_env"):
        assert form.locator(f"[data-setting='{key}']").get_attribute("class") == "setting invalid", key
    assert "http" in form.locator("[data-setting='base_url'] .error").inner_text()
    assert site.http.get(f"/api/projects/{pid}/generation/settings", headers=owner.headers).json()["base_url"] is None

    # A key the server does not have: saved, and said to be missing.
    form.get_by_label("Model server URL").fill(url)
    form.locator("#gen-model").fill("team-model")
    form.get_by_label("Temperature").fill("0.3")
    form.get_by_label("Environment variable holding the API key").fill("LABELLOOP_TEST_NOWHERE_API_KEY")
    form.get_by_label("Candidates per item (K)").fill("2")
    form.get_by_label("System prompt").fill("Be brief.")
    assert save(page, form) == 422
    form.locator("[data-setting='api_key_env'] .error").wait_for()  # LABELLOOP_ names are the server's own
    form.get_by_label("Environment variable holding the API key").fill("NOWHERE_TEST_API_KEY")
    assert save(page, form) == 200
    form.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert page.get_by_test_id("api-key-status").inner_text() == \
        "NOWHERE_TEST_API_KEY: not set in the server\u2019s environment (a job would stop at once)."
    assert page.get_by_test_id("generation-endpoint").inner_text() == \
        f"Requests go to {url}/v1/chat/completions, asking for team-model."
    saved = site.http.get(f"/api/projects/{pid}/generation/settings", headers=owner.headers).json()
    assert (saved["base_url"], saved["model"], saved["temperature"], saved["candidates"], saved["system_prompt"],
            saved["api_key_set"]) == (url, "team-model", 0.3, 2, "Be brief.", False)
    generate.click()
    page.locator(".generate-run [role='alert']").filter(has_text="NOWHERE_TEST_API_KEY").wait_for()

    # An emptied setting goes back to its default (null).
    form.get_by_label("Environment variable holding the API key").fill("")
    assert save(page, form) == 200
    page.get_by_test_id("api-key-status").filter(has_text="No key is sent.").wait_for()

    # Generate: followed to its end, with the progress on the way (the stub holds two prompts
    # until the page has shown the first item done).
    server.held, server.late = {"prompt 1", "prompt 2"}, {"prompt 0"}
    page.evaluate("""() => {
        window.seen = [];
        const root = document.querySelector("div.generate-run");
        new MutationObserver(() => {
            const bar = document.querySelector("progress.generate-progress");
            window.seen.push([document.querySelector("p.generate-status").textContent, bar && `${bar.value}/${bar.max}`]);
        }).observe(root, {subtree: true, childList: true, characterData: true, attributes: true});
    }""")
    generate.click()
    wait_until(page, "window.seen.some(([s, b]) => s.includes('1 of 3') && b === '1/3')")
    server.release.set()
    status = page.locator("p.generate-status")
    status.filter(has_text="Added").wait_for()
    assert status.inner_text() == "Added 6 candidates to 3 items from stub-served-model."
    assert page.locator("progress.generate-progress").count() == 0

    asked = {str(b["messages"][-1]["content"]): b for b in server.seen}
    assert set(asked) == {"prompt 0", "prompt 1", "prompt 2"}
    assert all(b["model"] == "team-model" and b["n"] == 2 and b["temperature"] == 0.3
               and b["messages"][0] == {"role": "system", "content": "Be brief."} for b in asked.values())
    for ext, item in items_by_external_id(site, owner, pid).items():
        got = item["data"]["responses"]
        n = ext[1:]
        assert [(c["id"], c["content"], c["model"]) for c in got] == [
            ("r1", f"**answer 0** to prompt {n}", "stub-served-model"),
            ("r2", f"**answer 1** to prompt {n}", "stub-served-model")]
        assert got[0]["meta"]["parameters"]["temperature"] == 0.3 and got[0]["meta"]["finish_reason"] == "stop"

    # The new candidates on the item page, with their generation.
    page.goto(f"{site.url}/app/#/p/{pid}/items/{items_by_external_id(site, owner, pid)['g0']['id']}")
    pane = page.locator(".candidate[data-response='r2']")
    pane.locator(".md strong").filter(has_text="answer 1").wait_for()
    assert pane.locator(".candidate-note").inner_text() == "model: stub-served-model"
    assert "temperature 0.3" in pane.locator(".candidate-meta").inner_text()
    assert watch.dialogs == [] and watch.errors == []


def test_the_new_project_preview_shows_sample_candidates(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    log_in(page, site, owner, "new")
    schema = json.dumps(schema_with(PREF, conversation=True))
    page.get_by_label("Label schema").fill(schema)
    preview = page.locator(".preview")
    preview.locator("article.candidate").nth(1).wait_for()
    assert preview.locator("article.candidate").count() == 2
    texts = preview.locator("article.candidate .md").all_inner_texts()
    assert any("Mochi" in t for t in texts) and any("Pixel" in t for t in texts)
    assert preview.locator("article.candidate strong").filter(has_text="Mochi").count() == 1  # Markdown
    turns = preview.locator(".chat .turn")
    assert turns.count() == 3 and "One name, please" in turns.nth(2).inner_text()  # the turn they answer
    assert "no responses" not in preview.inner_text().lower()

    page.get_by_label("Label schema").fill(json.dumps(schema_with(PREF)))  # a prompt instead
    preview.locator(".prompt").filter(has_text="Suggest a name").wait_for()
    assert preview.locator("article.candidate").count() == 2
    assert watch.dialogs == [] and watch.errors == []
