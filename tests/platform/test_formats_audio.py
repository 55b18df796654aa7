"""Audio formats in and out (docs/audio.md, "Formats"): NeMo manifests, SRT, WebVTT and RTTM, each
exported from answered audio items with the audio files, read back by independent readers (`srt`,
`webvtt-py`), imported into a fresh project as gold and exported again to the same archive byte
for byte, with every segment kept to the millisecond; bad files refused by file, line and field
with nothing kept."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from labelloop.cli.main import app
from labelloop.config import get_settings
from labelloop.services import exports
from labelloop.services.policy import Actor
from tests.platform.formats import answer_all, export, imported, jsonl, members, nothing_kept, problems
from tests.platform.pictures import sha, zipped
from tests.platform.sounds import sound
from tests.platform.world import User, World

LENGTH = {"calls/a.wav": 3.0, "b.flac": 2.5, "c.mp3": 1.5}


def schema(labels: list[str], *, transcript: bool = True, overlap: bool = False) -> dict[str, Any]:
    return {"fields": [{"name": "clip", "type": "audio"}],
            "questions": [{"name": "turns", "type": "audio_segments", "target": "clip", "labels": labels,
                           "transcript": transcript, "allow_overlap": overlap}]}


TRANSCRIBED = schema(["spk_a", "spk_b"])
ONE_LABEL = schema(["speech"])
SPEAKERS = schema(["spk_a", "spk_b"], transcript=False, overlap=True)


def audio_files() -> dict[str, bytes]:
    return {name: sound(name.rsplit(".", 1)[1], seconds) for name, seconds in LENGTH.items()}


def segments(kind: str, name: str) -> list[dict[str, Any]]:
    """What the annotator marks: millisecond times, texts that need escaping, an empty file."""
    if name == "c.mp3":
        return []  # "nothing here"
    end = LENGTH[name]
    if kind == "speakers":
        return [{"start": 0.0, "end": 1.5, "label": "spk_a"}, {"start": 1.25, "end": end, "label": "spk_b"}]
    labels = ("speech", "speech") if kind == "one" else ("spk_a", "spk_b")
    return [
        {"start": 0.001, "end": 1.25, "label": labels[0], "text": "a <b> & c --> d"},
        {"start": 1.25, "end": end - 0.007, "label": labels[1], "text": "two lines\nof text, 3 < 4"},
    ]


def stored(kind: str, name: str) -> list[dict[str, Any]]:
    """The segments as the server stores them (text and words null where the question has none)."""
    out = []
    for s in segments(kind, name):
        s = {**s, "text": s.get("text"), "words": None}
        out.append(s)
    return out


def answered(world: World, kind: str, project_schema: dict[str, Any]) -> tuple[User, int]:
    owner = world.user()
    pid = world.project(owner, schema=project_schema)
    r = world.upload(owner, pid, zipped(audio_files()), "calls.zip")
    assert r.status_code == 201, r.text
    answer_all(world, owner, pid, lambda name: {"turns": segments(kind, name)})
    return owner, pid


def gold(world: World, owner: User, pid: int) -> dict[str, Any]:
    return {k: v["gold"]["turns"] for k, v in jsonl(world, owner, pid).items()}


@pytest.mark.parametrize(("fmt", "kind", "project_schema"), [
    ("nemo", "two", TRANSCRIBED), ("webvtt", "two", TRANSCRIBED), ("srt", "one", ONE_LABEL),
    ("rttm", "speakers", SPEAKERS),
])
def test_an_export_reimports_to_the_same_segments_and_exports_byte_for_byte(
    world: World, fmt: str, kind: str, project_schema: dict[str, Any]
) -> None:
    owner, pid = answered(world, kind, project_schema)
    first = export(world, owner, pid, fmt)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/zip"
    again = world.project(owner, schema=project_schema)
    r = imported(world, owner, again, first.content, fmt)
    assert r.status_code == 201, r.text
    expected = {name: stored(kind, name) for name in LENGTH}
    if fmt == "srt":  # SRT has no escape for -->
        expected = {n: [{**s, "text": s["text"].replace("-->", "->")} for s in v] for n, v in expected.items()}
    assert gold(world, owner, again) == expected
    second = export(world, owner, again, fmt, source="gold")
    assert second.status_code == 200, second.text
    assert members(second.content) == members(first.content)


# Files as other tools write them ---------------------------------------------------------------

def test_an_srt_file_as_subtitle_editors_write_it_becomes_prelabels(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=ONE_LABEL)
    subtitle = ("\ufeff1\r\n00:00:00,500 --> 00:00:01,250\r\n<i>Hello</i> there,\r\nfriend.\r\n\r\n"
                "2\r\n00:00:01,250 --> 00:00:02,000\r\n\r\n\r\n3\r\n00:00:02,000 --> 00:00:02,999\r\nbye\r\n")
    files = {"talk/one.wav": sound("wav", 3.0), "talk/one.srt": subtitle.encode(), "silent.flac": sound("flac", 1.0)}
    r = imported(world, owner, pid, zipped(files), "srt", **{"as": "prelabels"})
    assert r.status_code == 201, r.text
    rows = jsonl(world, owner, pid)
    assert sorted(rows) == ["silent.flac", "talk/one.wav"]  # an audio file without subtitles: nothing here
    assert rows["talk/one.wav"]["gold"] is None
    assert rows["talk/one.wav"]["data"] == {"clip": f"blob:{sha(files['talk/one.wav'])}"}
    assert rows["talk/one.wav"]["meta"]["prelabel"] == {"turns": [
        {"start": 0.5, "end": 1.25, "label": "speech", "text": "<i>Hello</i> there,\nfriend.", "words": None},
        {"start": 1.25, "end": 2.0, "label": "speech", "text": "", "words": None},
        {"start": 2.0, "end": 2.999, "label": "speech", "text": "bye", "words": None}]}
    assert rows["silent.flac"]["meta"]["prelabel"] == {"turns": []}


def test_a_webvtt_file_with_notes_styles_identifiers_settings_and_voices(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=TRANSCRIBED)
    vtt = ("WEBVTT - a talk\nKind: captions\n\nSTYLE\n::cue { color: red }\n\nNOTE written by hand\nover two lines\n\n"
           "intro\n00:00.500 --> 00:01.250 align:start position:10%\n<v.loud spk_b>Fish &amp; chips &lt;3</v>\n\n"
           "00:00:01.250 --> 00:00:02.000\n<c.yellow>no</c> voice&nbsp;here <00:00:01.500>at all\n")
    r = imported(world, owner, pid, zipped({"a.ogg": sound("ogg", 2.0), "a.vtt": vtt.encode()}), "webvtt")
    assert r.status_code == 201, r.text
    assert gold(world, owner, pid) == {"a.ogg": [
        {"start": 0.5, "end": 1.25, "label": "spk_b", "text": "Fish & chips <3", "words": None},
        {"start": 1.25, "end": 2.0, "label": "spk_a", "text": "no voice\u00a0here at all", "words": None}]}


def test_an_rttm_file_as_pyannote_writes_it_with_overlapping_speakers(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SPEAKERS)
    rttm = (";; written by pyannote.audio\n"
            "SPEAKER meeting 1 0.031 1.234 <NA> <NA> spk_a <NA> <NA>\n"
            "SPEAKER meeting 1 1.0\t0.5 <NA> <NA> spk_b <NA> <NA>\n\n"
            "SPEAKER meeting 1 1.7 0.3 <NA> <NA> spk_a <NA>\n")
    r = imported(world, owner, pid, zipped({"meeting.wav": sound("wav", 2.0), "meeting.rttm": rttm.encode()}), "rttm")
    assert r.status_code == 201, r.text
    assert gold(world, owner, pid) == {"meeting.wav": [
        {"start": 0.031, "end": 1.265, "label": "spk_a", "text": None, "words": None},
        {"start": 1.0, "end": 1.5, "label": "spk_b", "text": None, "words": None},
        {"start": 1.7, "end": 2.0, "label": "spk_a", "text": None, "words": None}]}


def test_a_nemo_asr_manifest_of_whole_files_and_segments(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=TRANSCRIBED)
    lines = [{"audio_filepath": "./wavs/x.wav", "duration": 2.0, "text": "the whole file", "lang": "en"},
             {"audio_filepath": "y.mp3", "offset": 0.25, "duration": 0.5, "text": "part", "label": "spk_b"},
             {"audio_filepath": "y.mp3", "offset": 0.75, "duration": 0.25}]
    manifest = "".join(json.dumps(line) + "\n" for line in lines)
    files = {"train_manifest.json": manifest.encode(), "wavs/x.wav": sound("wav", 2.0), "y.mp3": sound("mp3", 1.5),
             "metadata.jsonl": b'{"file_name": "wavs/x.wav", "transcription": "ignored"}\n'}
    r = imported(world, owner, pid, zipped(files), "nemo")
    assert r.status_code == 201, r.text
    assert gold(world, owner, pid) == {
        "wavs/x.wav": [{"start": 0.0, "end": 2.0, "label": "spk_a", "text": "the whole file", "words": None}],
        "y.mp3": [{"start": 0.25, "end": 0.75, "label": "spk_b", "text": "part", "words": None},
                  {"start": 0.75, "end": 1.0, "label": "spk_a", "text": None, "words": None}]}


# Bad files -------------------------------------------------------------------------------------

def _found(r: Any) -> list[tuple[str, int | None, str | None, str]]:
    return [(p.get("file"), p.get("line"), p.get("field"), p["message"]) for p in problems(r)]


def test_every_problem_of_bad_srt_files_is_named_and_nothing_is_imported(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=ONE_LABEL)
    bad = ("1\n00:00:00,000 --> 00:00:01,000\nfine\n\n"
           "two\n00:00:01,000 --> 00:00:02,000\nno number\n\n"
           "3\n00:00:01.000 --> 00:00:02,000\na full stop\n\n"
           "4\n00:00:02,000 --> 00:00:01,500\nends before it starts\n\n"
           "5\n00:00:01,500 --> 00:00:09,000\npast the end\n\n"
           "6\n00:00:01 --> 00:00:02,000 X1:40\nshort and with coordinates\n")
    files = {"a.wav": sound("wav", 2.0), "a.srt": bad.encode(), "b.srt": b"1\n00:00:00,000 --> 00:00:01,000\nhi\n",
             "c.wav": sound("wav", 1.0), "c.srt": b"1\n00:00:00,000 --> 00:00:00,800\nx\n\n2\n00:00:00,500 --> 00:00:01,000\ny\n",
             "notes.txt": b"hello"}
    assert _found(imported(world, owner, pid, zipped(files), "srt")) == [
        ("notes.txt", None, None, "neither an audio file nor an SRT file"),
        ("b.srt", None, None, "no audio file beside it (the same path with an audio suffix: b.wav, .flac, .mp3, ...)"),
        ("a.srt", 5, "number", "expected the cue's number; got 'two'"),
        ("a.srt", 10, "start", "'00:00:01.000' is not a timestamp (HH:MM:SS,mmm)"),
        ("a.srt", 22, "start", "expected the cue's timing, HH:MM:SS,mmm --> HH:MM:SS,mmm; "
                               "got '00:00:01 --> 00:00:02,000 X1:40'"),
        ("a.srt", 14, "end", "end = 1.5 s must be after start = 2.0 s (to the millisecond)"),
        ("a.srt", 18, "end", "end = 9.0 s is past the end of the audio (2.000 s)"),
        ("c.srt", 6, "start", "overlaps the segment on line 2 (0.0 to 0.8 s); this question does not allow "
                              "overlapping segments"),
    ]
    nothing_kept(world, pid)


def test_every_problem_of_bad_webvtt_rttm_and_nemo_files_is_named(world: World) -> None:
    owner = world.user()
    vtt = world.project(owner, schema=TRANSCRIBED)
    files = {"a.wav": sound("wav", 1.0), "a.vtt": b"WEBVTX\n\n00:00.000 --> 00:00.500\nhi\n",
             "b.wav": sound("wav", 1.0), "b.vtt": b"WEBVTT\n\njust text\n\n00:00.000 --> 00:00.500\n<v carol>hi\n"}
    assert _found(imported(world, owner, vtt, zipped(files), "webvtt")) == [
        ("a.vtt", 1, None, "a WebVTT file starts with the line WEBVTT"),
        ("b.vtt", 3, "start", "expected a cue: its timing line, HH:MM:SS.mmm --> HH:MM:SS.mmm; got 'just text'"),
        ("b.vtt", 5, "voice", "voice 'carol' is not a label of question 'turns' (labels: spk_a, spk_b)"),
    ]
    nothing_kept(world, vtt)

    speakers = world.project(owner, schema=schema(["spk_a", "spk_b"], transcript=False))
    rttm = ("SPEAKER m 1 0.0 0.5 <NA> <NA> spk_c <NA> <NA>\nSPEAKER m 1 x 0.5 <NA> <NA> spk_a <NA> <NA>\n"
            "SPEAKER n 1 0.0 0.5 <NA> <NA> spk_a <NA> <NA>\nLEXEME m 1 0.0 0.5 hi lex spk_a <NA> <NA>\n"
            "SPEAKER m 1 0.0 0.5\nSPEAKER m 1 0.0 0.5 <NA> <NA> spk_a <NA> <NA>\n"
            "SPEAKER m 1 0.4 0.5 <NA> <NA> spk_b <NA> <NA>\n")
    found = _found(imported(world, owner, speakers, zipped({"m.wav": sound("wav", 1.0), "m.rttm": rttm.encode()}), "rttm"))
    assert found == [
        ("m.rttm", 1, "name", "speaker 'spk_c' is not a label of question 'turns' (labels: spk_a, spk_b)"),
        ("m.rttm", 2, "start", "'x' is not a number of seconds"),
        ("m.rttm", 3, "file-id", "file-id 'n' after 'm': one RTTM file per recording, beside its audio file"),
        ("m.rttm", 4, "type", "only SPEAKER lines are read; got 'LEXEME'"),
        ("m.rttm", 5, None, "a SPEAKER line has 10 fields (type, file-id, channel, start, duration, ortho, "
                            "stype, name, conf, slat); got 5"),
        ("m.rttm", 7, "start", "overlaps the segment on line 6 (0.0 to 0.5 s); this question does not allow "
                               "overlapping segments"),
    ]
    nothing_kept(world, speakers)

    nemo = world.project(owner, schema=TRANSCRIBED)
    lines = ['{"audio_filepath": "audio/gone.wav", "duration": 1}', "{not json", '{"audio_filepath": "a.wav"}',
             '{"audio_filepath": "a.wav", "duration": 0.5, "offset": -1}',
             '{"audio_filepath": "a.wav", "duration": 0.5, "label": "spk_z"}',
             '{"audio_filepath": "a.wav", "duration": "1"}', '{"audio_filepath": "a.wav", "duration": 0.5, "offset": 0.9}']
    files = {"manifest.jsonl": "\n".join(lines).encode(), "a.wav": sound("wav", 1.0)}
    found = _found(imported(world, owner, nemo, zipped(files), "nemo"))
    assert found[0] == ("manifest.jsonl", 1, "audio_filepath", "no audio file 'audio/gone.wav' in the archive")
    assert found[1][:3] == ("manifest.jsonl", 2, None) and found[1][3].startswith("not valid JSON")
    assert found[2:] == [
        ("manifest.jsonl", 3, "duration", "missing: the segment's length in seconds"),
        ("manifest.jsonl", 4, "offset", "must be at least 0 seconds, got -1"),
        ("manifest.jsonl", 5, "label", "label 'spk_z' is not a label of question 'turns' (labels: spk_a, spk_b)"),
        ("manifest.jsonl", 6, "duration", "expected a number of seconds, got '1'"),
        ("manifest.jsonl", 7, "end", "end = 1.4 s is past the end of the audio (1.000 s)"),
    ]
    nothing_kept(world, nemo)


# Sources, references and what cannot be exported ------------------------------------------------

def test_answers_go_in_a_nemo_manifest_with_their_annotators_and_nowhere_else(world: World) -> None:
    owner = world.user()
    helper = world.user("helper")
    pid = world.project(owner, schema=TRANSCRIBED, overlap=2, members={"annotator": (helper,)})
    assert world.upload(owner, pid, zipped({"a.wav": sound("wav", 2.0)}), "a.zip").status_code == 201
    answer_all(world, owner, pid, lambda _: {"turns": [{"start": 0, "end": 1, "label": "spk_a", "text": "one"}]})
    answer_all(world, helper, pid, lambda _: {"turns": [{"start": 0.5, "end": 2, "label": "spk_b", "text": "two"}]})
    files = members(export(world, owner, pid, "nemo", source="answers", images="refs").content)
    assert sorted(files) == ["manifest.jsonl", "references.csv"]  # no audiofolder metadata: whose text?
    assert [json.loads(line) for line in files["manifest.jsonl"].splitlines()] == [
        {"audio_filepath": "audio/a.wav", "offset": 0.0, "duration": 1.0, "text": "one", "label": "spk_a",
         "annotator": owner.name},
        {"audio_filepath": "audio/a.wav", "offset": 0.5, "duration": 1.5, "text": "two", "label": "spk_b",
         "annotator": "helper"}]
    refs = list(csv.reader(io.StringIO(files["references.csv"].decode())))
    assert refs == [["file", "reference"], ["audio/a.wav", f"blob:{sha(sound('wav', 2.0))}"]]
    for fmt in ("srt", "webvtt", "rttm"):
        r = export(world, owner, pid, fmt, source="answers")
        assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "source", r.text


def test_audio_by_url_is_skipped_and_formats_refuse_what_they_cannot_hold(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=ONE_LABEL)
    rows = b'{"id": "far", "clip": "https://example.com/a.wav"}\n'
    assert world.upload(owner, pid, rows, "items.jsonl").status_code == 201
    assert world.upload(owner, pid, zipped({"near.wav": sound("wav", 1.0)}), "n.zip").status_code == 201
    answer_all(world, owner, pid, lambda _: {"turns": [{"start": 0, "end": 0.5, "label": "speech", "text": "hi"}]})
    files = members(export(world, owner, pid, "srt").content)
    assert sorted(files) == ["near.srt", "near.wav", "skipped.csv"]
    assert files["skipped.csv"] == b"id,reason\r\nfar,the audio is given by URL: the file is not stored here\r\n"

    spaced = world.project(owner, schema=schema(["speaker a", "b"], transcript=False))
    r = export(world, owner, spaced, "rttm")
    assert r.status_code == 422 and "RTTM separates its fields by spaces" in r.text
    images = world.project(owner, schema={"fields": [{"name": "photo", "type": "image"}], "questions": [
        {"name": "objects", "type": "bbox", "target": "photo", "labels": ["car"]}]})
    r = export(world, owner, images, "srt")
    assert r.status_code == 422 and "holds the segments of an audio_segments question" in r.text



def test_memory_does_not_grow_with_the_audio_bytes(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=ONE_LABEL)
    files = {f"{n:02}.wav": sound("wav", 32.0, hz=200.0 + n) for n in range(8)}  # 1 MiB each
    assert world.upload(owner, pid, zipped(files), "p.zip").status_code == 201
    answer_all(world, owner, pid, lambda _: {"turns": [{"start": 1, "end": 2, "label": "speech", "text": "x"}]})
    with world.runtime.db.read() as conn:
        plan = exports.plan_export(conn, Actor.operator(), pid, "nemo")
    sent = 0
    tracemalloc.start()
    try:
        for piece in exports.stream_export(world.runtime.db, plan, world.runtime.blobs):
            sent += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = sum(len(b) for b in files.values())
    assert sent > total
    assert peak < total / 4, (peak, total)  # a piece of one file at a time, never the audio
    archive = members(b"".join(exports.stream_export(world.runtime.db, plan, world.runtime.blobs)))
    assert archive["audio/05.wav"] == files["05.wav"]


# Annotation files alone: segments for items already in the project ------------------------------

def test_annotation_files_without_audio_go_to_the_items_already_there(world: World) -> None:
    owner, pid = answered(world, "two", TRANSCRIBED)
    refs = export(world, owner, pid, "nemo", images="refs").content
    assert "audio/b.flac" not in members(refs)
    r = imported(world, owner, pid, refs, "nemo", **{"as": "prelabels"})
    assert r.status_code == 201, r.text
    assert r.json()["result"] == {"created": 0, "unchanged": 0, "records": 2, "updated": 2}
    rows = jsonl(world, owner, pid)
    assert {k: v["meta"].get("prelabel") for k, v in rows.items()} == {
        "calls/a.wav": {"turns": stored("two", "calls/a.wav")}, "b.flac": {"turns": stored("two", "b.flac")},
        "c.mp3": None}  # no line for it: nothing to say

    # SRT files named after the items, with or without the audio suffix; gold merged with the rest.
    srt_files = {"calls/a.srt": b"1\n00:00:00,000 --> 00:00:01,000\nhi\n", "c.srt": b""}
    r = imported(world, owner, pid, zipped(srt_files), "srt", question="turns")
    assert r.status_code == 201, r.text
    golds = {k: v["gold"] for k, v in jsonl(world, owner, pid).items()}
    assert golds == {"calls/a.wav": {"turns": [{"start": 0.0, "end": 1.0, "label": "spk_a", "text": "hi",
                                                "words": None}]},
                     "b.flac": None, "c.mp3": {"turns": []}}

    bad = {"calls/a.srt": b"1\n00:00:00,000 --> 00:00:09,000\ntoo long\n", "nobody.srt": b"",
           "b.srt": b"1\n00:00:00,000 --> 00:00:01,000\nfine\n"}
    assert _found(imported(world, owner, pid, zipped(bad), "srt")) == [
        ("calls/a.srt", 2, "end", "end = 9.0 s is past the end of the audio (3.000 s)"),
        ("nobody.srt", None, None, "no audio file 'nobody' in the archive, and no item 'nobody' in the project "
                                   "to give these segments to"),
    ]
    assert {k: v["gold"] for k, v in jsonl(world, owner, pid).items()} == golds  # nothing changed


# The command line ----------------------------------------------------------------------------------

def test_the_cli_imports_a_folder_of_srt_files_and_exports_rttm(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")  # problems on one line each
    get_settings.cache_clear()
    try:
        cli = CliRunner()

        def run(*args: str, code: int = 0) -> str:
            result = cli.invoke(app, list(args))
            assert result.exit_code == code, result.output
            return result.output

        doc = tmp_path / "schema.json"
        doc.write_text(json.dumps(schema(["speech"])))
        run("user", "create", "ann", "--no-password")
        run("project", "create", "Talks", "--schema", str(doc), "--owner", "ann")
        folder = tmp_path / "talks"
        folder.mkdir()
        (folder / "t.wav").write_bytes(sound("wav", 2.0))
        (folder / "t.srt").write_text("1\n00:00:00,100 --> 00:00:01,900\nhello\n")
        assert "imported 1 new items" in run("import", "Talks", str(folder), "--format", "srt", "--as", "gold")
        out = tmp_path / "t.zip"
        run("export", "Talks", "--format", "rttm", "--source", "gold", "--images", "refs", "-o", str(out))
        files = members(out.read_bytes())
        assert files["t.rttm"] == b"SPEAKER t 1 0.100 1.800 <NA> <NA> speech <NA> <NA>\n"
        assert sorted(files) == ["references.csv", "t.rttm"]
        (folder / "t.srt").write_text("1\n00:00:00,100 --> 00:00:03,000\nhello\n")
        again = run("import", "Talks", str(folder), "--format", "srt", code=1)
        assert "file t.srt, line 2 field 'end': end = 3.0 s is past the end of the audio (2.000 s)" in again
    finally:
        get_settings.cache_clear()
