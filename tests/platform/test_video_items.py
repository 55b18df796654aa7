"""Video items end to end (docs/video.md, "Video items and blobs"): zips, folders and records of
test-card videos (labelloop.services.video.testcard: every frame shows its number as a bar code)
and image sequences, probed at import with exact values, their frame tables proved frame by frame
by decoding the stored files back (CFR, VFR, B-frames; the original and the proxy); every kind of
bad file refused by name with nothing kept; originals, frame tables, posters and proxies served
with ranges to members only."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select

from labelloop.errors import Invalid
from labelloop.services.blobs import StoredVideo, stored_video, video_info
from labelloop.services.importing import writer
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.jobs import create_job
from labelloop.services.policy import Actor
from labelloop.services.video import probe as video_probe
from labelloop.services.video import testcard
from labelloop.services.video.frames import read_table
from labelloop.services.video.probe import NotVideo, probe
from labelloop.store.models import blob_video, project_blobs
from tests.platform.media_items import (
    assert_nothing_imported,
    black_mpeg4,
    count,
    listed,
    media_project,
    problems,
    url,
)
from tests.platform.pictures import sha, zipped
from tests.platform.sounds import sound
from tests.platform.world import User, World

OPERATOR = Actor.operator()
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "video"}],
    "questions": [{"name": "scene", "type": "choice", "options": ["day", "night"]}],
}
W, H = 160, 120


def project(world: World, schema: dict[str, Any] | None = None, **members: User) -> tuple[User, int]:
    return media_project(world, schema or SCHEMA, **members)


def card(tmp_path: Path, name: str, frames: int = 30, **options: Any) -> tuple[testcard.TestCard, bytes]:
    made = testcard.write_video(tmp_path / name, frames, width=options.pop("width", W),
                                height=options.pop("height", H), **options)
    return made, made.path.read_bytes()


def stored(world: World, digest: str) -> StoredVideo:
    with world.runtime.db.read() as conn:
        found = stored_video(conn, digest)
    assert found is not None
    return found


def assert_frames_exact(world: World, video: StoredVideo, made: testcard.TestCard) -> None:
    """The stored table is the card's times, and decoding the original (and the proxy) shows
    frame i at times[i], every frame."""
    table = read_table(world.runtime.blobs.open(video.frames.sha256).read())
    assert table == list(made.times)
    for row in (video.original, video.proxy):
        if row is None:
            continue
        path = world.runtime.blobs.local_path(row.sha256)
        assert path is not None
        decoded = list(testcard.decoded_numbers(path))
        assert [t for t, _ in decoded] == table
        assert [n for _, n in decoded] == list(range(len(table)))


# Import ----------------------------------------------------------------------------------------


KINDS = {  # name: (testcard options, media type, codec, vfr, proxy)
    "cfr-bframes.mp4": ({"bframes": 3}, "video/mp4", "h264", False, False),
    "vfr-bframes.mp4": ({"vfr": True, "bframes": 2}, "video/mp4", "h264", True, False),
    "cfr.webm": ({}, "video/webm", "vp9", False, False),
    "vfr.webm": ({"vfr": True}, "video/webm", "vp9", True, False),
    "vfr.mkv": ({"vfr": True}, "video/x-matroska", "h264", True, True),
    "cfr.mov": ({}, "video/quicktime", "h264", False, True),
}


def test_a_zip_of_every_kind_makes_probed_items_with_exact_frame_tables(world: World, tmp_path: Path) -> None:
    owner, pid = project(world)
    made = {name: card(tmp_path, name, **dict(options)) for name, (options, *_rest) in KINDS.items()}
    files = {f"clips/{name}": data for name, (_, data) in made.items()} | {"__MACOSX/._a.mp4": b"junk"}
    r = world.upload(owner, pid, zipped(files), "clips.zip")
    assert r.status_code == 201, r.text
    assert r.json()["result"] == {"created": 6, "unchanged": 0, "records": 6}
    shown = listed(world, owner, pid)
    for name, (_, media_type, codec, vfr, proxy) in KINDS.items():
        c, data = made[name]
        assert shown[f"clips/{name}"]["data"] == {"clip": f"blob:{sha(data)}"}
        video = stored(world, sha(data))
        assert (video.original.media_type, video.codec, video.vfr) == (media_type, codec, vfr), name
        assert (video.width, video.height, video.rotation, video.frame_count) == (W, H, 0, 30)
        assert video.duration == pytest.approx(c.duration, abs=1e-9)
        assert video.fps == pytest.approx(30 / c.duration, abs=1e-9)
        if not vfr:
            assert (video.duration, video.fps) == (pytest.approx(1.2), pytest.approx(25.0))
        assert (video.proxy is not None) == proxy, name
        assert (video.poster.media_type, video.poster.width, video.poster.height) == ("image/jpeg", W, H)
        poster = Image.open(io.BytesIO(world.runtime.blobs.open(video.poster.sha256).read()))
        assert testcard.read_number(np.asarray(poster.convert("RGB"))) == 0
        assert_frames_exact(world, video, c)
        with world.runtime.db.read() as conn:
            info = video_info(conn, sha(data))
        assert info is not None and (info.width, info.height, info.frame_count) == (W, H, 30)

    with world.runtime.db.read() as conn:
        linked = set(conn.execute(select(project_blobs.c.sha256)).scalars())
    assert linked == {sha(data) for _, data in made.values()}  # the originals; variants go with them
    before = count(world, blob_video)
    again = world.upload(owner, pid, zipped(files), "clips.zip")
    assert again.status_code == 201 and again.json()["result"] == {"created": 0, "unchanged": 6, "records": 6}
    assert count(world, blob_video) == before == 6


def test_rotation_and_a_large_original_make_a_displayed_size_and_a_proxy(world: World, tmp_path: Path) -> None:
    owner, pid = project(world)
    _, turned_data = card(tmp_path, "phone.mp4", 12, width=128, height=96, rotation=90)
    large, large_data = card(tmp_path, "large.mp4", 6, width=2560, height=1440, bframes=0)
    r = world.upload(owner, pid, zipped({"phone.mp4": turned_data, "large.mp4": large_data}), "a.zip")
    assert r.status_code == 201, r.text
    phone = stored(world, sha(turned_data))
    assert (phone.width, phone.height, phone.rotation, phone.proxy) == (96, 128, 90, None)
    assert (phone.poster.width, phone.poster.height) == (96, 128)  # turned as displayed
    big = stored(world, sha(large_data))
    assert big.proxy is not None and (big.proxy.width, big.proxy.height) == (1280, 720)
    assert (big.width, big.height, big.frame_count) == (2560, 1440, 6)
    assert (big.poster.width, big.poster.height) == (1280, 720)
    assert_frames_exact(world, big, large)


def test_a_long_video_gets_a_proxy(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As if 12 frames at 25 fps (0.48 s) were longer than LONG_SECONDS: half an hour in production.
    monkeypatch.setattr(video_probe, "LONG_SECONDS", 0.4)
    owner, pid = project(world)
    made, data = card(tmp_path, "long.mp4", 12, width=128, height=96, bframes=0)
    r = world.upload(owner, pid, zipped({"long.mp4": data}), "a.zip")
    assert r.status_code == 201, r.text
    long = stored(world, sha(data))
    assert long.proxy is not None and (long.proxy.width, long.proxy.height) == (128, 96)
    assert_frames_exact(world, long, made)


def test_a_folder_and_records_naming_files_folders_of_frames_and_stored_blobs(
    world: World, tmp_path: Path
) -> None:
    owner, pid = project(world)
    folder = tmp_path / "drive"
    (folder / "day1").mkdir(parents=True)
    first, _ = card(folder / "day1", "a.mp4", 10)
    job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))
    result = writer.import_file(world.runtime.db, OPERATOR, pid, folder, job_id=job.id, blobs=world.runtime.blobs)
    assert result["created"] == 1
    assert set(listed(world, owner, pid)) == {"day1/a.mp4"}

    # Records: a file, a folder of frames at 10 frames a second (named frame1.png ... frame12.png:
    # natural order, frame10 after frame9), and a blob stored before.
    _, clip_data = card(tmp_path, "c.webm", 8)
    frames = {f"seq/frame{i + 1}.png": _png(testcard.frame_image(i, W, H)) for i in range(12)}
    lines = [{"id": "r1", "clip": "./clips/c.webm"}, {"id": "r2", "clip": "seq/", "fps": 10},
             {"id": "r3", "clip": f"blob:{sha(first.path.read_bytes())}"}, {"id": "r2b", "clip": "seq", "fps": 10}]
    body = zipped({"items.jsonl": "\n".join(json.dumps(x) for x in lines).encode(), "clips/c.webm": clip_data,
                   "clips/unused.mp4": b"not read: no record names it", **frames})
    r = world.upload(owner, pid, body, "records.zip")
    assert r.status_code == 201, r.text
    shown = listed(world, owner, pid)
    assert shown["r1"]["data"]["clip"] == f"blob:{sha(clip_data)}"
    assert shown["r3"]["data"]["clip"] == f"blob:{sha(first.path.read_bytes())}"
    assert shown["r2"]["meta"] == {"fps": 10}
    assert shown["r2b"]["data"] == shown["r2"]["data"]  # one folder, one video
    sequence = stored(world, shown["r2"]["data"]["clip"].removeprefix("blob:"))
    assert (sequence.frame_count, sequence.fps, sequence.vfr, sequence.codec) == (12, pytest.approx(10.0), False, "h264")
    assert (sequence.original.media_type, sequence.width, sequence.height, sequence.proxy) == ("video/mp4", W, H, None)
    path = world.runtime.blobs.local_path(sequence.original.sha256)
    assert path is not None
    decoded = list(testcard.decoded_numbers(path))
    assert decoded == [(pytest.approx(i / 10), i) for i in range(12)]
    assert read_table(world.runtime.blobs.open(sequence.frames.sha256).read()) == [t for t, _ in decoded]

    lines = [{"id": "r4", "clip": "clips/missing.mp4"}, {"id": "r5", "clip": "p.png"},
             {"id": "r6", "clip": "seq/", "fps": "fast"}]
    body = zipped({"items.jsonl": "\n".join(json.dumps(x) for x in lines).encode(), "p.png": _png(np.zeros((4, 4, 3))),
                   **frames})
    found = {(p["line"], p["field"]): p["message"] for p in problems(world.upload(owner, pid, body, "bad.zip"))}
    assert found[(1, "clip")] == "no video or folder of frames 'clips/missing.mp4' in the archive"
    assert found[(2, "clip")] == "p.png is not a video file (or a folder of frames)"
    assert found[(3, "fps")] == "fps must be a number of frames a second, not 'fast'"


def test_a_sequences_folder_becomes_one_video_per_folder(world: World) -> None:
    owner, pid = project(world)
    # Odd sizes are padded by a black column and row; the images' pixels stay where they were.
    files = {f"sequences/cam1/{i + 1:04d}.jpg": _png(testcard.frame_image(i, 99, 75), "JPEG") for i in range(5)}
    files |= {f"sequences/cam2/{i}.png": _png(testcard.frame_image(i, W, H)) for i in range(11)}
    r = world.upload(owner, pid, zipped(files), "frames.zip")
    assert r.status_code == 201, r.text
    shown = listed(world, owner, pid)
    assert set(shown) == {"sequences/cam1", "sequences/cam2"}
    cam1 = stored(world, shown["sequences/cam1"]["data"]["clip"].removeprefix("blob:"))
    assert (cam1.width, cam1.height, cam1.frame_count, cam1.fps) == (100, 76, 5, pytest.approx(25.0))
    cam2 = stored(world, shown["sequences/cam2"]["data"]["clip"].removeprefix("blob:"))
    path = world.runtime.blobs.local_path(cam2.original.sha256)
    assert path is not None
    assert [n for _, n in testcard.decoded_numbers(path)] == list(range(11))  # 2.png before 10.png


# Refusals --------------------------------------------------------------------------------------


def _png(pixels: Any, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(out, format=fmt)
    return out.getvalue()


def _audio_mp4(tmp_path: Path) -> bytes:
    import av

    path = tmp_path / "voice.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        stream: Any = out.add_stream("aac", rate=16000)
        for i in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path.read_bytes()


def test_every_bad_file_is_named_with_its_reason_and_nothing_is_kept(world: World, tmp_path: Path) -> None:
    owner, pid = project(world)
    _, mkv = card(tmp_path, "long.mkv", 100)
    _, mp4 = card(tmp_path, "whole.mp4", 10)
    odd = _png(testcard.frame_image(1, 40, 30))
    files = {
        "empty.mp4": b"",
        "noise.mp4": np.random.default_rng(7).bytes(6000),
        "notes.txt": b"hello",
        "old.mp4": black_mpeg4("avi"),  # by its bytes, not its name
        "voice.mp4": _audio_mp4(tmp_path),
        "cut.mkv": mkv[: len(mkv) // 2],
        "nomoov.mp4": mp4[: len(mp4) - 400],
        "../escape.mp4": mp4,
        "sequences/bad/1.png": _png(testcard.frame_image(0, W, H)),
        "sequences/bad/2.png": odd,
        "sequences/mixed/1.png": _png(testcard.frame_image(0, W, H)),
        "sequences/mixed/readme.md": b"# frames",
        "fine.mp4": mp4,
    }
    before = count(world, blob_video)
    r = world.upload(owner, pid, zipped(files), "clips.zip")
    assert r.json()["error"]["message"] == "clips.zip: nothing was imported"
    found = {p["file"]: p["message"] for p in problems(r)}
    expected = {
        "empty.mp4": "the file is empty (0 bytes)",
        "noise.mp4": "not a video file FFmpeg can read (accepted: MP4, MOV, WebM or MKV",
        "notes.txt": "not an image file",
        "old.mp4": "a AVI (Audio Video Interleaved) file; accepted: MP4, MOV, WebM or MKV",
        "voice.mp4": "the file holds no video stream (it is audio: import it as audio)",
        "cut.mkv": "the file is cut short: its header says 4.00 s",
        "nomoov.mp4": "not a video file FFmpeg can read",
        "../escape.mp4": "leads out of the archive",
        "sequences/bad/2.png": "a frame of 40x30 pixels, the first is 160x120",
        "sequences/mixed/readme.md": "not an image: a folder of frames holds only images",
    }
    assert set(found) == set(expected), found
    for name, part in expected.items():
        assert part in found[name], (name, found[name])
    assert_nothing_imported(world, owner, pid, blob_video, before)


def test_a_video_archive_needs_a_video_field_and_an_audio_schema_keeps_its_mp4(world: World, tmp_path: Path) -> None:
    _, mp4 = card(tmp_path, "a.mp4", 5)
    owner, pid = project(world, {"fields": [{"name": "text"}], "questions": [{"name": "q", "type": "text"}]})
    found = problems(world.upload(owner, pid, zipped({"a.webm": mp4, "b.mp4": mp4}), "a.zip"))
    assert found == [{"file": name, "message": "the schema has no video field to put a video in"}
                     for name in ("a.webm", "b.mp4")]
    # A schema with audio and video fields: an .mp4 holding video is a video, one of sound is audio.
    both = {"fields": [{"name": "clip", "type": "video", "required": False},
                       {"name": "voice", "type": "audio", "required": False}],
            "questions": [{"name": "q", "type": "text"}]}
    owner, pid = project(world, both)
    r = world.upload(owner, pid, zipped({"v.mp4": mp4, "s.mp4": sound("m4a", 1.0)}), "both.zip")
    assert r.status_code == 201, r.text
    shown = listed(world, owner, pid)
    assert shown["v.mp4"]["data"] == {"clip": f"blob:{sha(mp4)}"}
    assert list(shown["s.mp4"]["data"]) == ["voice"]


def test_size_and_length_limits(world: World, tmp_path: Path) -> None:
    owner, pid = project(world)
    archive = tmp_path / "clips.zip"
    _, long = card(tmp_path, "long.mp4", 75)  # 3 s
    _, short = card(tmp_path, "short.webm", 10)
    archive.write_bytes(zipped({"long.mp4": long, "short.webm": short}))
    for limits, message in ((ImportLimits(max_video_seconds=2), "0:00:03 of video, longer than the 0:00:02"),
                            (ImportLimits(max_video_bytes=len(long) - 1), "LABELLOOP_MAX_VIDEO_BYTES")):
        job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))
        with pytest.raises(Invalid) as e:
            writer.import_file(world.runtime.db, OPERATOR, pid, archive, job_id=job.id, limits=limits,
                               blobs=world.runtime.blobs)
        assert [p["file"] for p in e.value.detail] == ["long.mp4"]
        assert message in e.value.detail[0]["message"]
    assert listed(world, owner, pid) == {}


def test_a_length_past_the_limit_once_decoded_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from labelloop.services.video import probe as module

    made = testcard.write_video(tmp_path / "a.mp4", 50, width=64, height=48)
    with pytest.raises(NotVideo, match=r"^0:00:02 of video, longer than the 0:00:01\.5 limit"):
        probe(made.path, max_seconds=1.5)
    monkeypatch.setattr(module, "stated_seconds", lambda container, stream: None)
    with pytest.raises(NotVideo, match=r"longer than the 0:00:01\.5 limit once decoded"):
        probe(made.path, max_seconds=1.5)


def test_probing_streams_without_holding_the_frames(tmp_path: Path) -> None:
    import tracemalloc

    def peak_of(frames: int) -> int:
        made = testcard.write_video(tmp_path / f"{frames}.mp4", frames, width=64, height=48, fps=50,
                                    preset="ultrafast")
        tracemalloc.start()
        try:
            found = probe(made.path, max_seconds=3600)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert found.frame_count == frames and list(found.table.times) == list(made.times)
        return peak

    peak_of(10)  # modules imported on first use are not the probe's memory
    short, long = peak_of(150), peak_of(1500)
    # Ten times the frames: the table's 8 bytes a frame more, not ten times the memory.
    assert long - short < 1350 * 8 + 16 * 1024, (short, long)


# Test card -------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(number=st.integers(0, (1 << 16) - 1), width=st.integers(16, 400), height=st.integers(8, 300))
def test_a_frame_reads_back_its_own_number_at_any_size(number: int, width: int, height: int) -> None:
    image = testcard.frame_image(number, width, height)
    assert testcard.read_number(image) == number
    half = np.asarray(Image.fromarray(image).resize((max(16, width // 2), max(8, height // 2))))
    if width >= 64 and height >= 32:  # scaled down, as a screenshot may be
        assert testcard.read_number(half) == number


@settings(max_examples=200, deadline=None)
@given(start=st.integers(-5, 5000), gaps=st.lists(st.integers(0, 300), min_size=1, max_size=40))
def test_the_frame_table_keeps_every_time_and_says_when_it_varies(start: int, gaps: list[int]) -> None:
    from labelloop.services.video.frames import TableBuilder

    base = Fraction(1, 1000)
    builder = TableBuilder()
    pts = [start]
    for gap in gaps:
        pts.append(pts[-1] + gap)
    problems = [builder.add(p, base) for p in pts]
    if 0 in gaps:  # two frames at one time: refused at the second, naming both
        first = gaps.index(0) + 1
        assert problems[first] == f"frames {first - 1} and {first} are shown at the same time ({pts[first] / 1000:.6f} s)"
        return
    assert problems == [None] * len(pts)
    table = builder.finish(None)
    assert list(table.times) == [float(Fraction(p, 1000)) for p in pts]
    assert table.end == pytest.approx(pts[-1] / 1000 + gaps[-1] / 1000)
    assert builder.vfr() == (max(gaps) - min(gaps) > max(0.01 * min(gaps), 1))
    assert read_table(table.to_json()) == list(table.times)


def test_vfr_ticks_follow_the_pattern() -> None:
    base, ticks = testcard.frame_ticks(6, fps=25, vfr=True)
    assert (base, ticks) == (Fraction(1, 1000), [0, 40, 60, 140, 173, 213, 233])


# Serving ---------------------------------------------------------------------------------------


def test_members_get_the_video_inline_with_ranges_the_frame_table_poster_and_proxy(
    world: World, tmp_path: Path
) -> None:
    annotator, reviewer, outsider = world.user(), world.user(), world.user()
    owner, pid = project(world, annotator=annotator, reviewer=reviewer)
    made, mp4 = card(tmp_path, "a.mp4", 20, vfr=True)
    _, mov = card(tmp_path, "b.mov", 10)
    assert world.upload(owner, pid, zipped({"a.mp4": mp4, "b.mov": mov}), "a.zip").status_code == 201
    digest = sha(mp4)
    for user in (annotator, reviewer, owner):
        r = world.client.get(url(pid, digest), headers=user.headers)
        assert r.status_code == 200 and r.content == mp4
    r = world.client.get(url(pid, digest), headers=annotator.headers)
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["content-disposition"].startswith("inline;")
    assert r.headers["accept-ranges"] == "bytes" and r.headers["etag"] == f'"{digest}"'
    assert "media-src 'self'" in r.headers["content-security-policy"]
    part = world.client.get(url(pid, digest), headers={**annotator.headers, "Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == mp4[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(mp4)}"
    tail = world.client.get(url(pid, digest), headers={**annotator.headers, "Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == mp4[-50:]

    frames = world.client.get(url(pid, digest, "frames"), headers=annotator.headers)
    assert frames.status_code == 200
    assert json.loads(frames.content) == {"frame_count": 20, "times": list(made.times)}
    poster = world.client.get(url(pid, digest, "poster"), headers=annotator.headers)
    assert poster.headers["content-type"] == "image/jpeg"
    assert testcard.read_number(np.asarray(Image.open(io.BytesIO(poster.content)).convert("RGB"))) == 0
    assert world.client.get(url(pid, digest, "thumb"), headers=annotator.headers).content == poster.content
    missing = world.client.get(url(pid, digest, "proxy"), headers=annotator.headers)
    assert missing.status_code == 404 and "no proxy" in missing.json()["error"]["message"]

    info = world.client.get(url(pid, digest) + "/info", headers=annotator.headers).json()
    assert info["media_type"] == "video/mp4" and info["width"] is None
    assert info["video"] == {"width": W, "height": H, "rotation": 0, "frame_count": 20,
                             "fps": pytest.approx(20 / made.duration), "vfr": True,
                             "duration": pytest.approx(made.duration), "codec": "h264"}
    assert info["frames"]["size"] == len(frames.content) and info["poster"]["media_type"] == "image/jpeg"
    assert info["proxy"] is None

    other = world.client.get(url(pid, sha(mov)) + "/info", headers=annotator.headers).json()
    assert other["media_type"] == "video/quicktime" and other["proxy"]["media_type"] == "video/mp4"
    proxy = world.client.get(url(pid, sha(mov), "proxy"), headers={**annotator.headers, "Range": "bytes=0-99"})
    assert proxy.status_code == 206 and proxy.headers["content-type"] == "video/mp4" and len(proxy.content) == 100

    for suffix in ("", "?variant=frames", "?variant=poster", "/info"):
        assert world.client.get(url(pid, digest) + suffix, headers=outsider.headers).status_code == 404
    assert world.client.get(url(pid, digest, "frames")).status_code == 401
    # An image has no frame table.
    assert world.client.get(url(pid, "0" * 64, "frames"), headers=owner.headers).status_code == 404


# Command line ----------------------------------------------------------------------------------


def test_the_cli_imports_a_folder_of_videos_and_sequences(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from labelloop.cli.main import app
    from labelloop.config import get_settings

    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        cli = CliRunner()

        def run(*args: str, code: int = 0) -> str:
            result = cli.invoke(app, list(args))
            assert result.exit_code == code, result.output
            return result.output

        schema = tmp_path / "schema.json"
        schema.write_text(json.dumps(SCHEMA))
        run("user", "create", "ann", "--no-password")
        run("project", "create", "Clips", "--schema", str(schema), "--owner", "ann")
        folder = tmp_path / "drive"
        (folder / "sequences" / "cam").mkdir(parents=True)
        card(folder, "a.webm", 6)
        testcard.write_sequence(folder / "sequences" / "cam", 4, width=64, height=48)
        assert "imported 2 new items" in run("import", "Clips", str(folder))
        (folder / "broken.mp4").write_bytes(b"not a video")
        out = run("import", "Clips", str(folder), code=1)
        assert "nothing was imported" in out and "broken.mp4" in out and "not a video file FFmpeg can read" in out
    finally:
        get_settings.cache_clear()
