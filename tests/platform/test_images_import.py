"""Image imports end to end: zips and folders of images, records that reference stored files or
images beside them, every kind of bad input refused by name with nothing kept, and what Pillow
makes of awkward files (EXIF rotation, 16-bit, CMYK, palettes with transparency)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from labelloop.config import Settings
from labelloop.errors import Invalid
from labelloop.services import projects
from labelloop.services.blobs import stored_image
from labelloop.services.importing import writer
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.jobs import create_job
from labelloop.services.policy import Actor
from labelloop.store.blobs import LocalBlobStore
from labelloop.store.models import blobs, items, project_blobs
from tests.platform.pictures import (
    SCHEMA,
    cmyk_jpeg,
    jpeg,
    palette_png_with_alpha,
    png,
    png16,
    png_header,
    sha,
    zipped,
)
from tests.platform.world import User, World

OPERATOR = Actor.operator()


def project(world: World, schema: dict[str, Any] | None = None) -> tuple[User, int]:
    owner = world.user()
    return owner, world.project(owner, schema=schema or SCHEMA)


def upload(world: World, owner: User, pid: int, body: bytes, name: str = "photos.zip") -> httpx.Response:
    return world.upload(owner, pid, body, name)


def listed(world: World, owner: User, pid: int) -> dict[str, dict[str, Any]]:
    r = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers)
    assert r.status_code == 200, r.text
    return {i["external_id"]: i for i in r.json()}


def linked(world: World, pid: int) -> set[str]:
    with world.runtime.db.read() as conn:
        return set(conn.execute(select(project_blobs.c.sha256).where(project_blobs.c.project_id == pid))
                   .scalars())


def problems(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 422, r.text
    found: list[dict[str, Any]] = r.json()["error"]["problems"]
    return found


def store_file(world: World, sha256: str) -> Image.Image:
    store = LocalBlobStore(world.runtime.settings.blob_dir)
    im = Image.open(store.path_of(sha256))
    im.load()
    return im


def test_a_zip_of_images_makes_one_item_per_image_and_a_reimport_changes_nothing(world: World) -> None:
    owner, pid = project(world)
    files = {"a.jpg": jpeg(3000, 1000), "cats/b.png": png(), "cats/c.jpeg": jpeg(seed=7),
             "__MACOSX/._a.jpg": b"junk", "cats/.DS_Store": b"junk"}
    r = upload(world, owner, pid, zipped(files))
    assert r.status_code == 201, r.text
    assert r.json()["result"] == {"created": 3, "unchanged": 0, "records": 3}
    shown = listed(world, owner, pid)
    assert set(shown) == {"a.jpg", "cats/b.png", "cats/c.jpeg"}  # the path in the archive
    for name, item in shown.items():
        assert item["data"] == {"photo": f"blob:{sha(files[name])}"}
    assert linked(world, pid) == {sha(files[n]) for n in shown}

    with world.runtime.db.read() as conn:
        big = stored_image(conn, sha(files["a.jpg"]))
        small = stored_image(conn, sha(files["cats/b.png"]))
    assert big is not None and small is not None
    assert (big.original.width, big.original.height, big.original.media_type) == (3000, 1000, "image/jpeg")
    assert (big.preview.width, big.preview.height) == (2048, 683)
    assert (big.thumb.width, big.thumb.height) == (256, 85)
    assert store_file(world, big.preview.sha256).size == (2048, 683)
    # A small PNG a browser shows as it is: its own preview and thumbnail, nothing re-encoded.
    assert small.preview == small.original == small.thumb

    with world.runtime.db.read() as conn:
        before = conn.execute(select(func.count()).select_from(blobs)).scalar_one()
    again = upload(world, owner, pid, zipped(files))
    assert again.status_code == 201 and again.json()["result"] == {"created": 0, "unchanged": 3, "records": 3}
    with world.runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(blobs)).scalar_one() == before
    assert set(listed(world, owner, pid)) == set(shown)


def test_a_folder_of_images_through_the_cli(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from labelloop.cli.main import app
    from labelloop.config import get_settings

    owner, pid = project(world)
    folder = tmp_path / "shoot"
    (folder / "day1").mkdir(parents=True)
    (folder / "day1" / "x.jpg").write_bytes(jpeg())
    (folder / "y.png").write_bytes(png())
    (folder / ".hidden.png").write_bytes(b"not even an image")
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(world.runtime.settings.data_dir))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", world.runtime.settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["import", str(pid), str(folder)])
        assert result.exit_code == 0, result.output
        assert "imported 2 new items" in result.output
        (folder / "notes.txt").write_text("hello")
        (folder / "link.jpg").symlink_to(folder / "y.png")
        bad = CliRunner().invoke(app, ["import", str(pid), str(folder)])
    finally:
        get_settings.cache_clear()
    assert bad.exit_code == 1
    assert "file link.jpg: a symbolic link" in bad.output
    assert "file notes.txt: not an image file" in bad.output
    shown = listed(world, owner, pid)
    assert shown["day1/x.jpg"]["data"]["photo"] == f"blob:{sha(jpeg())}"
    assert set(shown) == {"day1/x.jpg", "y.png"}


def test_records_reference_blobs_their_importer_may_read(world: World) -> None:
    owner, pid = project(world)
    assert upload(world, owner, pid, zipped({"a.jpg": jpeg()})).status_code == 201
    ref = f"blob:{sha(jpeg())}"

    # The same owner, a second project: a stored file of theirs may be referenced.
    second = world.project(owner, schema=SCHEMA)
    r = world.upload(owner, second, json.dumps({"id": "again", "photo": ref}).encode() + b"\n", "refs.jsonl")
    assert r.status_code == 201, r.text
    assert linked(world, second) == {sha(jpeg())}

    # Someone else knows the hash but is in neither project: refused, naming the line and field.
    stranger = world.user()
    theirs = world.project(stranger, schema=SCHEMA)
    body = "\n".join(json.dumps(r) for r in [
        {"id": "1", "photo": ref},
        {"id": "2", "photo": "blob:" + "0" * 64},
        {"id": "3", "photo": "blob:https://example.org/x"},
        {"id": "4", "photo": "https://example.org/cat.png"},
    ]).encode()
    found = problems(world.upload(stranger, theirs, body, "refs.jsonl"))
    found.sort(key=lambda p: p["line"])
    assert [(p["line"], p["field"]) for p in found] == [(1, "photo"), (2, "photo"), (3, "photo")]
    assert "that you may use" in found[0]["message"] and "that you may use" in found[1]["message"]
    assert "64 lowercase hex" in found[2]["message"]
    assert listed(world, stranger, theirs) == {} and linked(world, theirs) == set()

    # Once a member of the first project, the stranger may use its files (they could download them).
    world.runtime.db.run(lambda c: projects.set_member(c, OPERATOR, pid, stranger.id, "annotator"))
    ok = world.upload(stranger, theirs, body.split(b"\n")[0] + b"\n", "refs.jsonl")
    assert ok.status_code == 201, ok.text
    assert linked(world, theirs) == {sha(jpeg())}


def test_a_zip_with_a_records_file_names_its_images_by_path(world: World) -> None:
    schema = {"fields": [{"name": "photo", "type": "image"}, {"name": "caption", "type": "text"}],
              "questions": SCHEMA["questions"]}
    owner, pid = project(world, schema)
    records = [
        {"id": "r1", "photo": "img/a.jpg", "caption": "first", "meta": {"site": "north"}},
        {"id": "r2", "photo": "./img/b.png", "caption": "second"},
        {"id": "r3", "photo": "https://example.org/c.png", "caption": "a URL stays a URL"},
    ]
    files = {"items.jsonl": "\n".join(json.dumps(r) for r in records).encode(),
             "img/a.jpg": jpeg(), "img/b.png": png(), "img/unused.png": png(5, 5)}
    r = upload(world, owner, pid, zipped(files))
    assert r.status_code == 201, r.text
    shown = listed(world, owner, pid)
    assert shown["r1"]["data"] == {"photo": f"blob:{sha(jpeg())}", "caption": "first"}
    assert shown["r1"]["meta"] == {"site": "north"}
    assert shown["r2"]["data"]["photo"] == f"blob:{sha(png())}"
    assert shown["r3"]["data"]["photo"] == "https://example.org/c.png"
    assert linked(world, pid) == {sha(jpeg()), sha(png())}  # the unused image is not imported

    csv_files = {"items.csv": b"id,photo,caption\nc1,img/a.jpg,one\nc2,img/missing.jpg,two\nc3,../x.jpg,three\n",
                 "img/a.jpg": jpeg()}
    found = problems(upload(world, owner, pid, zipped(csv_files), "more.zip"))
    assert [(p.get("file"), p["line"], p["field"]) for p in found] == [
        ("items.csv", 3, "photo"), ("items.csv", 4, "photo")]
    assert "no image 'img/missing.jpg' in the archive" in found[0]["message"]


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "cut.jpg": (jpeg(400, 300)[:-200], "the file is cut short"),
    "cut.png": (png(200, 100)[:-30], "the file is cut short"),
    "words.jpg": (b"this is not a picture at all", "not an image that can be read"),
    "bomb.png": (png_header(20_000, 20_000), "claims 400,000,000 pixels"),
    "small-bomb.png": (png_header(10_000, 10_000), "claims 100,000,000 pixels (10,000 x 10,000)"),
    "vector.svg": (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "an SVG image"),
    "readme.txt": (b"hello", "not an image file"),
    "../escape.jpg": (jpeg(), "leads out of the archive"),
    "/etc/abs.jpg": (jpeg(), "an absolute path"),
    "dir\\back.jpg": (jpeg(), "backslash"),
    "a//b.jpg": (jpeg(), "an empty or '.' part"),
}


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_every_bad_file_is_named_and_nothing_is_kept(world: World) -> None:
    owner, pid = project(world)
    files = {name: data for name, (data, _) in BAD_FILES.items()}
    files["fine.jpg"] = jpeg()
    body = zipped(files, links={"link.jpg": "/etc/passwd"}, duplicates={"fine.jpg": jpeg(seed=3)})
    r = upload(world, owner, pid, body)
    found = {p["file"]: p["message"] for p in problems(r)}
    assert r.json()["error"]["message"] == "photos.zip: nothing was imported"
    expected = {name: part for name, (_, part) in BAD_FILES.items()}
    expected |= {"link.jpg": "a symbolic link", "fine.jpg": "holds 2 files of this name"}
    assert set(found) == set(expected)
    for name, part in expected.items():
        assert part in found[name], (name, found[name])
    assert listed(world, owner, pid) == {} and linked(world, pid) == set()
    # Nothing half-written stays in the store's scratch folder.
    assert list((world.runtime.settings.blob_dir / "tmp").iterdir()) == []


def test_exif_orientation_swaps_width_and_height_and_the_preview_is_upright(world: World) -> None:
    owner, pid = project(world)
    rotated = jpeg(64, 48, orientation=6)  # stored 64 x 48, shown turned 90 degrees clockwise
    assert upload(world, owner, pid, zipped({"turned.jpg": rotated})).status_code == 201
    with world.runtime.db.read() as conn:
        image = stored_image(conn, sha(rotated))
    assert image is not None
    assert (image.original.width, image.original.height) == (48, 64)
    preview = store_file(world, image.preview.sha256).convert("RGB")
    assert preview.size == (48, 64)
    # Turned clockwise, the stored top-left (red) is now top-right, and bottom-left (blue) top-left.
    assert _near(preview.getpixel((40, 8)), (255, 0, 0))
    assert _near(preview.getpixel((8, 8)), (0, 0, 255))
    assert _near(preview.getpixel((40, 56)), (0, 255, 0))


def test_16_bit_cmyk_and_palette_images_get_browser_previews(world: World) -> None:
    owner, pid = project(world)
    files = {"deep.png": png16(), "full.png": png16(top=65535), "print.jpg": cmyk_jpeg(),
             "clear.png": palette_png_with_alpha(600, 300)}
    assert upload(world, owner, pid, zipped(files)).status_code == 201
    with world.runtime.db.read() as conn:
        made = {name: stored_image(conn, sha(data)) for name, data in files.items()}
    deep, full, cmyk, clear = (made[n] for n in ("deep.png", "full.png", "print.jpg", "clear.png"))
    assert deep is not None and full is not None and cmyk is not None and clear is not None
    # 12-bit values in a 16-bit file use the whole 8-bit range, not its bottom sixteenth.
    for image in (deep, full):
        preview = store_file(world, image.preview.sha256)
        assert preview.mode == "L" and preview.getextrema() == (0, 255)
        assert image.original.media_type == "image/png" and image.preview.media_type == "image/jpeg"
    shown = store_file(world, cmyk.preview.sha256)
    assert shown.mode == "RGB" and _near(shown.getpixel((25, 20)), (255, 0, 0), 40)
    assert cmyk.original.media_type == "image/jpeg" and cmyk.preview.sha256 != cmyk.original.sha256
    # The palette PNG is shown as it is; its thumbnail keeps the transparency (WebP with alpha).
    assert clear.preview == clear.original
    see_through = store_file(world, clear.thumb.sha256)
    assert clear.thumb.media_type == "image/webp" and see_through.mode == "RGBA"
    assert see_through.size == (256, 128)
    assert see_through.getpixel((20, 60))[3] == 0 and see_through.getpixel((230, 60))[3] == 255


def test_image_and_archive_size_limits(world: World, tmp_path: Path) -> None:
    owner, pid = project(world)
    big = jpeg(400, 300)
    job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))
    archive = tmp_path / "photos.zip"
    archive.write_bytes(zipped({"big.jpg": big, "small.png": png()}))
    limits = ImportLimits(max_image_bytes=len(big) - 1)
    with pytest.raises(Invalid) as e:
        writer.import_file(world.runtime.db, OPERATOR, pid, archive, job_id=job.id, limits=limits,
                           blobs=world.runtime.blobs)
    assert [p["file"] for p in e.value.detail] == ["big.jpg"]
    assert "larger than" in e.value.detail[0]["message"]
    assert "LABELLOOP_MAX_IMAGE_BYTES" in e.value.detail[0]["message"]

    job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))
    limits = ImportLimits(max_archive_bytes=len(big) + 10)
    archive.write_bytes(zipped({"a.jpg": big, "b.jpg": jpeg(400, 300, seed=9), "c.png": png()}))
    with pytest.raises(Invalid) as e:
        writer.import_file(world.runtime.db, OPERATOR, pid, archive, job_id=job.id, limits=limits,
                           blobs=world.runtime.blobs)
    detail = e.value.detail
    assert [p["file"] for p in detail] == ["b.jpg"] and "LABELLOOP_MAX_ARCHIVE_BYTES" in detail[0]["message"]
    assert listed(world, owner, pid) == {}


def test_a_restart_after_the_commit_point_links_the_blobs_it_publishes(world: World, tmp_path: Path) -> None:
    if not world.runtime.db.is_sqlite:
        pytest.skip("SQLite's publishing phase: on PostgreSQL links are written with the rows, in one transaction")
    _, pid = project(world)
    annotator = world.user()
    world.runtime.db.run(lambda c: projects.set_member(c, OPERATOR, pid, annotator.id, "annotator"))
    archive = tmp_path / "photos.zip"
    files = {f"p{k}.png": png(8, 8, (k, 0, 0)) for k in range(30)}
    archive.write_bytes(zipped(files))
    job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))

    class Stop(Exception):
        pass

    def progress(done: int, total: int | None, message: str = "", **_: Any) -> None:
        if "opened to the queue" in message:
            raise Stop

    with pytest.raises(Stop):
        writer.import_file(world.runtime.db, OPERATOR, pid, archive, job_id=job.id, batch_size=1,
                           progress=progress, blobs=world.runtime.blobs)
    partly = linked(world, pid)
    assert 0 < len(partly) < 30  # published range by range, each with its links
    world.cut_off(job.id)
    world.runtime.recover()
    assert linked(world, pid) == {sha(d) for d in files.values()}
    some = sha(files["p3.png"])
    assert world.client.get(f"/api/projects/{pid}/blobs/{some}", headers=annotator.headers).status_code == 200


def test_a_crash_before_the_commit_point_leaves_no_item_or_link(world: World, tmp_path: Path) -> None:
    _, pid = project(world)
    archive = tmp_path / "photos.zip"
    archive.write_bytes(zipped({f"p{k}.png": png(8, 8, (0, k, 0)) for k in range(6)}))
    job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))

    def progress(done: int, total: int | None, message: str = "", **_: Any) -> None:
        if "records read" in message:
            raise KeyboardInterrupt  # the process dies between two batches

    discard = writer.discard_staged
    writer.discard_staged = lambda db, job_id: 0  # type: ignore[assignment]  # no except-block runs
    try:
        with pytest.raises(KeyboardInterrupt):
            writer.import_file(world.runtime.db, OPERATOR, pid, archive, job_id=job.id, batch_size=2,
                               progress=progress, blobs=world.runtime.blobs)
    finally:
        writer.discard_staged = discard  # type: ignore[assignment]
    with world.runtime.db.read() as conn:
        left = conn.execute(select(func.count()).select_from(items)).scalar_one()
    assert left > 0 if world.runtime.db.is_sqlite else left == 0  # staged; PostgreSQL: rolled back
    assert linked(world, pid) == set()
    world.cut_off(job.id)
    world.runtime.recover()
    with world.runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(items)).scalar_one() == 0
    assert linked(world, pid) == set()


def test_an_image_archive_needs_an_image_field(world: World) -> None:
    owner, pid = project(world, {"fields": [{"name": "text"}], "questions": SCHEMA["questions"]})
    found = problems(upload(world, owner, pid, zipped({"a.jpg": jpeg()})))
    assert found == [{"file": "a.jpg", "message": "the schema has no image field to put an image in"}]


def test_settings_reach_the_limits() -> None:
    settings = Settings(_env_file=None, max_image_bytes=1234)  # type: ignore[call-arg]
    assert ImportLimits.from_settings(settings).max_image_bytes == 1234


def _near(got: Any, want: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(int(g) - w) <= tolerance for g, w in zip(got[:3], want, strict=True))
