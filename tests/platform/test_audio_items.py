"""Audio items end to end (docs/audio.md): zips, folders and records of real audio files encoded
by FFmpeg, probed at import (duration, sample rate, channels, codec) with their waveform peaks;
every kind of bad file refused by name with nothing kept; the originals and peaks served with
ranges and ETags to members only; segments checked against the probed duration."""

from __future__ import annotations

import io
import json
import tracemalloc
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from labelloop.config import Settings
from labelloop.errors import Invalid
from labelloop.services.audio.peaks import read_peaks
from labelloop.services.audio.probe import NotAudio, probe
from labelloop.services.blobs import stored_audio
from labelloop.services.importing import writer
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.jobs import create_job
from labelloop.services.policy import Actor
from labelloop.store.models import blob_audio, blobs, project_blobs
from tests.platform.media_items import (
    assert_nothing_imported,
    black_mpeg4,
    count,
    listed,
    media_project,
    problems,
    url,
)
from tests.platform.pictures import jpeg, sha, zipped
from tests.platform.sounds import encode, espeak, sound, tone, write_long_wav
from tests.platform.world import User, World

OPERATOR = Actor.operator()
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [
        {"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech", "music"],
         "transcript": True},
        {"name": "quality", "type": "choice", "options": ["good", "bad"], "required": False},
        {"name": "note", "type": "text", "required": False},
    ],
}
MEDIA = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "ogg": "audio/ogg", "m4a": "audio/mp4"}
CODEC = {"wav": "pcm_s16le", "flac": "flac", "mp3": "mp3", "ogg": "opus", "m4a": "aac"}


def project(world: World, schema: dict[str, Any] | None = None, **members: User) -> tuple[User, int]:
    return media_project(world, schema or SCHEMA, **members)


# Import ----------------------------------------------------------------------------------------


def test_a_zip_of_every_kind_makes_probed_items_and_a_reimport_changes_nothing(world: World) -> None:
    owner, pid = project(world)
    files = {f"calls/a.{kind}": sound(kind, 1.5, channels=2 if kind == "flac" else 1) for kind in MEDIA}
    files["__MACOSX/._a.wav"] = b"junk"
    r = world.upload(owner, pid, zipped(files), "calls.zip")
    assert r.status_code == 201, r.text
    assert r.json()["result"] == {"created": 5, "unchanged": 0, "records": 5}
    shown = listed(world, owner, pid)
    assert set(shown) == {f"calls/a.{k}" for k in MEDIA}
    for kind in MEDIA:
        data = files[f"calls/a.{kind}"]
        assert shown[f"calls/a.{kind}"]["data"] == {"clip": f"blob:{sha(data)}"}
        with world.runtime.db.read() as conn:
            found = stored_audio(conn, sha(data))
        assert found is not None
        assert (found.original.media_type, found.codec) == (MEDIA[kind], CODEC[kind])
        assert (found.channels, found.sample_rate) == (2 if kind == "flac" else 1, 48000 if kind == "ogg" else 16000)
        # Decoded length: exact for lossless, MP3 (its encoder delay removed) and Opus; AAC written
        # without an edit list keeps its priming frame and the padding of its last (a browser
        # plays them too): up to two 1024-sample frames more.
        if kind == "m4a":
            samples = round(found.duration * 16000)  # whole AAC frames of 1024 samples, 1.5 s and more
            assert samples % 1024 == 0 and 24000 < samples <= 24000 + 2048, samples
        else:
            assert found.duration == 1.5, kind
        peaks = read_peaks(world.runtime.blobs.open(found.peaks.sha256).read())
        assert len(peaks.maxs) == int(np.ceil(found.duration * 100 - 1e-9))
    with world.runtime.db.read() as conn:
        linked = set(conn.execute(select(project_blobs.c.sha256)).scalars())
    assert linked == {sha(files[f"calls/a.{k}"]) for k in MEDIA}  # the originals; peaks go with them

    before = (count(world, blobs), count(world, blob_audio))
    again = world.upload(owner, pid, zipped(files), "calls.zip")
    assert again.status_code == 201 and again.json()["result"] == {"created": 0, "unchanged": 5, "records": 5}
    assert (count(world, blobs), count(world, blob_audio)) == before


def test_a_folder_and_records_naming_files_and_stored_blobs(world: World, tmp_path: Path) -> None:
    owner, pid = project(world)
    folder = tmp_path / "speech"
    (folder / "day1").mkdir(parents=True)
    (folder / "day1" / "x.wav").write_bytes(sound("wav", 1.0))
    (folder / "y.ogg").write_bytes(sound("ogg", 0.5))
    job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))
    result = writer.import_file(world.runtime.db, OPERATOR, pid, folder, job_id=job.id, blobs=world.runtime.blobs)
    assert result["created"] == 2
    assert set(listed(world, owner, pid)) == {"day1/x.wav", "y.ogg"}

    # Records beside their files, with gold checked against each file's probed duration; and a
    # record holding blob: of a file stored before.
    stored = sha(sound("wav", 1.0))
    clip = sound("mp3", 2.0)
    good = {"start": 0.5, "end": 1.9, "label": "speech", "text": "hi"}
    lines = [{"id": "r1", "clip": "./clips/c.mp3", "gold": {"turns": [good]}},
             {"id": "r2", "clip": f"blob:{stored}", "gold": {"turns": [{**good, "end": 0.9}]}}]
    body = zipped({"items.jsonl": "\n".join(json.dumps(x) for x in lines).encode(), "clips/c.mp3": clip,
                   "clips/unused.wav": b"not read: no record names it"})
    r = world.upload(owner, pid, body, "records.zip")
    assert r.status_code == 201, r.text
    shown = listed(world, owner, pid)
    assert shown["r1"]["data"]["clip"] == f"blob:{sha(clip)}"
    assert shown["r2"]["data"]["clip"] == f"blob:{stored}"

    lines = [{"id": "r3", "clip": "clips/c.mp3", "gold": {"turns": [{**good, "end": 2.5}]}},
             {"id": "r4", "clip": f"blob:{stored}", "gold": {"turns": [good]}},
             {"id": "r5", "clip": "clips/missing.wav"}, {"id": "r6", "clip": "p.jpg"}]
    body = zipped({"items.jsonl": "\n".join(json.dumps(x) for x in lines).encode(), "clips/c.mp3": clip,
                   "p.jpg": jpeg()})
    found = {(p["line"], p["field"]): p["message"] for p in problems(world.upload(owner, pid, body, "bad.zip"))}
    assert "past the end of the audio (2.000 s)" in found[(1, "gold.turns[0].end")]
    assert "past the end of the audio (1.000 s)" in found[(2, "gold.turns[0].end")]
    assert found[(3, "clip")] == "no audio 'clips/missing.wav' in the archive"
    assert found[(4, "clip")] == "p.jpg is not an audio file"


BAD = {
    "empty.wav": (b"", "the file is empty (0 bytes)"),
    "noise.mp3": (np.random.default_rng(7).bytes(6000), "not an audio file FFmpeg can read"),
    "words.ogg": (b"just some text\n" * 50, "not an audio file FFmpeg can read"),
    "cut.wav": (sound("wav", 2.0)[:30000], "cut short: its data chunk says 64,000 bytes"),
    "cut.flac": (sound("flac", 2.0)[:9000], "cannot be decoded after"),
    "cut.mp3": (sound("mp3", 4.0)[:3000], "cut short: its header says 4.00 s"),
    "silence.wav": (None, "holds no audio (0 samples decode)"),
    "video.mp4": (None, "holds video"),
    "notes.txt": (b"hello", "not an audio file (accepted: WAV, FLAC, MP3"),
}


def _no_samples() -> bytes:
    """A WAV header with an empty data chunk."""
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    return buf.getvalue()


def _video() -> bytes:
    return black_mpeg4("mp4")


def test_every_bad_file_is_named_with_its_reason_and_nothing_is_kept(world: World) -> None:
    owner, pid = project(world)
    made = {"video.mp4": _video, "silence.wav": _no_samples}
    files = {name: data if data is not None else made[name]() for name, (data, _) in BAD.items()}
    files["fine.wav"] = sound("wav", 0.5)
    files["../escape.wav"] = sound("wav", 0.5, hz=300)
    before = count(world, blob_audio)
    r = world.upload(owner, pid, zipped(files), "calls.zip")
    assert r.json()["error"]["message"] == "calls.zip: nothing was imported"
    found = {p["file"]: p["message"] for p in problems(r)}
    expected = {name: part for name, (_, part) in BAD.items()} | {"../escape.wav": "leads out of the archive"}
    assert set(found) == set(expected)
    for name, part in expected.items():
        assert part in found[name], (name, found[name])
    assert_nothing_imported(world, owner, pid, blob_audio, before)


def test_size_and_length_limits(world: World, tmp_path: Path) -> None:
    owner, pid = project(world)
    archive = tmp_path / "calls.zip"
    long, short = sound("wav", 3.0), sound("flac", 1.0)
    archive.write_bytes(zipped({"long.wav": long, "short.flac": short}))
    for limits, message in ((ImportLimits(max_audio_seconds=2), "0:00:03 of audio, longer than the 0:00:02"),
                            (ImportLimits(max_audio_bytes=len(long) - 1), "LABELLOOP_MAX_AUDIO_BYTES")):
        job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))
        with pytest.raises(Invalid) as e:
            writer.import_file(world.runtime.db, OPERATOR, pid, archive, job_id=job.id, limits=limits,
                               blobs=world.runtime.blobs)
        assert [p["file"] for p in e.value.detail] == ["long.wav"]
        assert message in e.value.detail[0]["message"]
    assert listed(world, owner, pid) == {}
    settings = Settings(_env_file=None, max_audio_bytes=99, max_audio_seconds=7)  # type: ignore[call-arg]
    assert ImportLimits.from_settings(settings).max_audio_bytes == 99
    assert ImportLimits.from_settings(settings).max_audio_seconds == 7


def test_an_audio_archive_needs_an_audio_field(world: World) -> None:
    owner, pid = project(world, {"fields": [{"name": "text"}], "questions": [{"name": "q", "type": "text"}]})
    found = problems(world.upload(owner, pid, zipped({"a.wav": sound()}), "a.zip"))
    assert found == [{"file": "a.wav", "message": "the schema has no audio field to put an audio file in"}]


def test_speech_of_known_text_imports_with_its_length(world: World) -> None:
    speech = espeak("the quick brown fox jumps over the lazy dog")
    owner, pid = project(world)
    assert world.upload(owner, pid, zipped({"fox.wav": speech}), "fox.zip").status_code == 201
    with world.runtime.db.read() as conn:
        found = stored_audio(conn, sha(speech))
    assert found is not None and found.codec == "pcm_s16le" and found.channels == 1
    with wave.open(io.BytesIO(speech)) as w:  # the decoded length is the file's own, to the sample
        assert found.duration == pytest.approx(w.getnframes() / w.getframerate(), abs=1e-6)
        assert found.sample_rate == w.getframerate()
    assert found.duration > 1.5  # a sentence, not a blip
    peaks = read_peaks(world.runtime.blobs.open(found.peaks.sha256).read())
    assert peaks.maxs.max() > 20  # speech, not silence


# Probe and peaks -----------------------------------------------------------------------------


def test_peaks_hold_the_known_amplitude_of_every_bucket(tmp_path: Path) -> None:
    rate, amplitudes = 16000, [0.2, 0.4, 0.8, 0.95]
    # Alternating +a, -a: every 10 ms bucket's min and max are exactly -a and +a.
    x = np.concatenate([a * (-1.0) ** np.arange(rate) for a in amplitudes]).astype(np.float32)
    path = tmp_path / "steps.wav"
    path.write_bytes(encode(x))
    found = probe(path, max_seconds=60)
    peaks = read_peaks(found.peaks)
    assert (peaks.sample_rate, peaks.samples_per_bucket, found.duration) == (rate, 160, 4.0)
    want = np.repeat(np.round(127 * np.array(amplitudes)), 100).astype(np.int8)
    assert np.array_equal(peaks.maxs, want) and np.array_equal(peaks.mins, -want)
    # Stereo, the right channel silent: the mono mixdown halves the amplitude.
    path.write_bytes(encode(np.stack([x, np.zeros_like(x)])))
    half = read_peaks(probe(path, max_seconds=60).peaks)
    assert np.array_equal(half.maxs, np.repeat(np.round(127 * np.array(amplitudes) / 2), 100).astype(np.int8))
    # 44.1 kHz: 441 samples a bucket; 1.005 s leaves a last, shorter bucket.
    path.write_bytes(encode(tone(1.005, 44100, amplitude=0.5), rate=44100))
    odd = read_peaks(probe(path, max_seconds=60).peaks)
    assert (odd.samples_per_bucket, len(odd.maxs)) == (441, 101)
    assert abs(int(odd.maxs[50]) - 64) <= 1 and abs(int(odd.mins[50]) + 64) <= 1


def test_a_lossy_file_keeps_its_loudness_profile(tmp_path: Path) -> None:
    rate = 16000
    x = np.concatenate([tone(1.0, rate, amplitude=a) for a in (0.1, 0.7, 0.3)])
    path = tmp_path / "steps.mp3"
    path.write_bytes(encode(x, "mp3"))
    peaks = read_peaks(probe(path, max_seconds=60).peaks)
    middle = np.array([np.median(peaks.maxs[s * 100 + 20:s * 100 + 80]) for s in range(3)])
    # A low-rate MP3 loses a few per cent of the level, never the shape.
    assert np.all(np.abs(middle / (127 * np.array([0.1, 0.7, 0.3])) - 1) < 0.1), middle


def test_decoding_streams_without_holding_the_audio(tmp_path: Path) -> None:
    path = tmp_path / "ten-minutes.wav"
    write_long_wav(path, 600)  # 19 MB of 16-bit samples, 38 MB as float32
    tracemalloc.start()
    try:
        found = probe(path, max_seconds=3600)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found.duration == 600.0 and len(found.peaks) == 20 + 2 * 60_000
    assert peak < 4 * 1024 * 1024, peak  # the peaks and a frame or two, not the samples


def test_a_length_past_the_limit_once_decoded_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from labelloop.services.audio import probe as module

    path = tmp_path / "a.wav"
    path.write_bytes(sound("wav", 2.0))
    with pytest.raises(NotAudio, match=r"^0:00:02 of audio, longer than the 0:00:01\.5 limit"):
        probe(path, max_seconds=1.5)
    # A header that says nothing of the length (a stream): stopped while decoding.
    monkeypatch.setattr(module, "stated_seconds", lambda container, stream: None)
    with pytest.raises(NotAudio, match=r"longer than the 0:00:01\.5 limit once decoded"):
        probe(path, max_seconds=1.5)


# Serving and answering -----------------------------------------------------------------------


def test_members_get_the_audio_inline_with_ranges_and_the_peaks(world: World) -> None:
    annotator, outsider = world.user(), world.user()
    owner, pid = project(world, annotator=annotator)
    files = {"a.mp3": sound("mp3", 1.0), "b.ogg": sound("ogg", 1.0), "c.m4a": sound("m4a", 1.0)}
    assert world.upload(owner, pid, zipped(files), "a.zip").status_code == 201
    for name, data in files.items():
        digest = sha(data)
        r = world.client.get(url(pid, digest), headers=annotator.headers)
        assert r.status_code == 200 and r.content == data
        assert r.headers["content-type"] == MEDIA[name.split(".")[1]]
        assert r.headers["content-disposition"].startswith("inline;")
        assert r.headers["accept-ranges"] == "bytes" and r.headers["etag"] == f'"{digest}"'
        assert "media-src 'self'" in r.headers["content-security-policy"]  # plays when opened alone
        part = world.client.get(url(pid, digest), headers={**annotator.headers, "Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == data[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"

    digest = sha(files["a.mp3"])
    peaks = world.client.get(url(pid, digest, "peaks"), headers=annotator.headers)
    assert peaks.status_code == 200 and peaks.headers["content-type"] == "application/octet-stream"
    assert peaks.headers["etag"] == f'"{sha(peaks.content)}"'
    assert read_peaks(peaks.content).sample_rate == 16000
    cached = world.client.get(url(pid, digest, "peaks"),
                              headers={**annotator.headers, "If-None-Match": peaks.headers["etag"]})
    assert cached.status_code == 304
    head = world.client.get(url(pid, digest, "peaks"), headers={**annotator.headers, "Range": "bytes=0-19"})
    assert head.status_code == 206 and head.content == peaks.content[:20]
    # An audio file is its own preview and thumbnail.
    assert world.client.get(url(pid, digest, "thumb"), headers=annotator.headers).content == files["a.mp3"]

    info = world.client.get(url(pid, digest) + "/info", headers=annotator.headers).json()
    assert info["media_type"] == "audio/mpeg" and info["width"] is None
    assert info["audio"] == {"duration": 1.0, "sample_rate": 16000, "channels": 1, "codec": "mp3"}
    assert info["peaks"]["size"] == len(peaks.content)

    for suffix in ("", "?variant=peaks", "/info"):
        assert world.client.get(url(pid, digest) + suffix, headers=outsider.headers).status_code == 404
    assert world.client.get(url(pid, digest, "peaks")).status_code == 401


def test_images_and_audio_in_one_archive_and_an_image_has_no_peaks(world: World) -> None:
    schema = {"fields": [{"name": "photo", "type": "image", "required": False},
                         {"name": "clip", "type": "audio", "required": False}],
              "questions": [{"name": "q", "type": "text"}]}
    owner, pid = project(world, schema)
    photo, clip = jpeg(), sound()
    # Each file to the first field of its kind.
    r = world.upload(owner, pid, zipped({"p.jpg": photo, "s.wav": clip}), "mixed.zip")
    assert r.status_code == 201, r.text
    shown = listed(world, owner, pid)
    assert shown["p.jpg"]["data"] == {"photo": f"blob:{sha(photo)}"}
    assert shown["s.wav"]["data"] == {"clip": f"blob:{sha(clip)}"}
    r = world.client.get(url(pid, sha(photo), "peaks"), headers=owner.headers)
    assert r.status_code == 404 and "no peaks" in r.json()["error"]["message"]


def test_answers_are_checked_against_the_probed_duration(world: World) -> None:
    annotator = world.user()
    owner, pid = project(world, annotator=annotator)
    assert world.upload(owner, pid, zipped({"a.wav": sound("wav", 2.0)}), "a.zip").status_code == 201
    item_id = world.next(annotator, pid).json()["item_id"]
    words = [{"start": 0.1, "end": 0.4, "word": "hello"}]
    late = world.submit(annotator, pid, item_id, {"turns": [{"start": 0.1, "end": 2.5, "label": "speech"}]})
    assert late.status_code == 422
    assert late.json()["error"]["problems"][0]["field"] == "turns[0].end"
    assert "past the end of the audio (2.000 s)" in late.json()["error"]["problems"][0]["message"]
    ok = world.submit(annotator, pid, item_id, {
        "turns": [{"start": 1.0, "end": 1.99949, "label": "music"},
                  {"start": 0.1, "end": 0.5, "label": "speech", "text": "hello", "words": words}],
        "quality": "good", "note": "clear"})
    assert ok.status_code in (200, 201), ok.text
    with world.runtime.db.read() as conn:
        from labelloop.store.models import answers

        stored = conn.execute(select(answers.c.value)).scalar_one()
    assert stored["turns"] == [
        {"start": 0.1, "end": 0.5, "label": "speech", "text": "hello", "words": words},
        {"start": 1.0, "end": 1.999, "label": "music", "text": None, "words": None}]
    assert (stored["quality"], stored["note"]) == ("good", "clear")
