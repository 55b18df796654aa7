"""The video formats' own functions without a server (docs/video.md, "Formats"): hand-made files
with known lines, round trips of generated tracks through MOT and CVAT XML that give back every
keyframe and every coordinate, keyframes found from gt.txt alone that give back every box, and
independent readers: motmetrics' `loadtxt` on our gt.txt, the standard library's ElementTree on our
CVAT XML against CVAT's documented layout."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from typing import Any

import motmetrics as mm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.schema.types.video.interpolate import spans
from labelloop.services.exporting.video import cvat as cvat_out
from labelloop.services.exporting.video import frames as frames_out
from labelloop.services.exporting.video import mot as mot_out
from labelloop.services.exporting.video import vis as vis_out
from labelloop.services.exporting.video.tracks import answer_tracks
from labelloop.services.importing.video import cvat as cvat_in
from labelloop.services.importing.video import mot as mot_in

LABELS = ["car", "person"]


class Spec:
    values = LABELS
    attributes: tuple[Any, ...] = ()


def track(tid: str, label: str, *keys: tuple[int, list[Any] | None, bool, bool]) -> dict[str, Any]:
    return {"id": tid, "label": label, "attributes": {},
            "keyframes": [{"frame": f, "box": b, "outside": o, "occluded": c} for f, b, o, c in keys]}


HAND = [
    track("t1", "car", (0, [10, 20, 110, 80], False, False), (10, [30, 20, 130, 80], False, True)),
    track("t2", "person", (2, [0, 0, 5, 5], False, False), (4, [0, 0, 5, 5], True, False)),
]


def _mot(tracks: list[dict[str, Any]], frame_count: int) -> tuple[str, str]:
    gt = b"".join(mot_out.gt_lines(tracks, LABELS, frame_count)).decode()
    return gt, mot_out.keyframe_lines(tracks).decode()


def _read_mot(gt: str, keys: str | None, video: mot_in.Frame) -> list[dict[str, Any]]:
    rows, problems = mot_in.read_gt(gt, "a/gt/gt.txt", labels=LABELS, names=None, video=video)
    assert problems == []
    sidecar = None
    if keys is not None:
        sidecar, problems = mot_in.read_keyframes(keys, "a/gt/keyframes.txt", video)
        assert problems == []
    tracks, problems = mot_in.mot_tracks(rows, sidecar, gt="a/gt/gt.txt", sidecar="a/gt/keyframes.txt",
                                         frame_count=video.frame_count)
    assert problems == []
    return tracks


def test_mot_lines_of_a_hand_made_answer() -> None:
    gt, keys = _mot(HAND, 20)
    lines = gt.splitlines()
    assert len(lines) == 20 + 2  # t1 on frames 0..19 (held after its last keyframe), t2 on 2..3
    assert lines[0] == "1,1,10,20,100,60,1,1,1"
    assert lines[5] == "6,1,20,20,100,60,1,1,1"  # halfway: x1 = 10 + 20 * 5 / 10
    assert lines[10] == "11,1,30,20,100,60,1,1,0"  # occluded from keyframe 10 on: visibility 0
    assert lines[20:] == ["3,2,0,0,5,5,1,2,1", "4,2,0,0,5,5,1,2,1"]
    assert keys.splitlines() == ["1,1,0,0,10,20,110,80", "11,1,0,1,30,20,130,80",
                                 "3,2,0,0,0,0,5,5", "5,2,1,0,0,0,5,5"]
    info = mot_out.seqinfo("clips/a", 25.0, 20, 320, 240).decode()
    assert "seqLength=20\n" in info and "name=a\n" in info and "frameRate=25\n" in info


def test_motmetrics_reads_our_gt(tmp_path: Any) -> None:
    gt, _ = _mot(HAND, 20)
    path = tmp_path / "gt.txt"
    path.write_text(gt)
    df = mm.io.loadtxt(str(path), fmt="mot15-2D")
    assert len(df) == 22
    row = df.loc[(6, 1)]  # frame 6 (1-based), track 1
    # motmetrics takes MOT's left and top as MATLAB's 1-based pixels and subtracts 1.
    assert (row["X"] + 1, row["Y"] + 1, row["Width"], row["Height"]) == (20, 20, 100, 60)
    assert df.loc[(11, 1)]["Visibility"] == 0 and df.loc[(3, 2)]["ClassId"] == 2


def test_hand_made_round_trips() -> None:
    video = mot_in.Frame(320, 240, 20)
    gt, keys = _mot(HAND, 20)
    back = _read_mot(gt, keys, video)
    assert [t["keyframes"] for t in back] == [t["keyframes"] for t in HAND]
    assert [t["id"] for t in back] == ["1", "2"]
    without = _read_mot(gt, None, video)
    for a, b in zip(HAND, without, strict=True):
        assert list(spans(a["keyframes"], 20)) == list(spans(b["keyframes"], 20))
    assert [k["frame"] for k in without[0]["keyframes"]] == [0, 10]


# -- generated tracks -------------------------------------------------------------------------

def coordinate(size: int) -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(0, size), st.integers(0, 4 * size).map(lambda n: n / 4),
                     st.floats(0, size, allow_nan=False, allow_infinity=False))


@st.composite
def box(draw: Any, w: int, h: int) -> list[Any]:
    xs = sorted({draw(coordinate(w)) for _ in range(2)})
    ys = sorted({draw(coordinate(h)) for _ in range(2)})
    if len(xs) < 2 or len(ys) < 2 or not xs[0] < xs[1] or not ys[0] < ys[1]:
        return [0, 0, w, h]
    return [xs[0], ys[0], xs[1], ys[1]]


@st.composite
def tracks(draw: Any) -> tuple[list[dict[str, Any]], int, int, int]:
    w, h, n = draw(st.integers(1, 4000)), draw(st.integers(1, 3000)), draw(st.integers(1, 40))
    out = []
    for i in range(draw(st.integers(1, 4))):
        frames = sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=8)))
        keys = []
        for j, f in enumerate(frames):
            outside = j > 0 and draw(st.booleans())
            keys.append((f, draw(box(w, h)), outside, draw(st.booleans()) and not outside))
        out.append(track(f"t{i}", draw(st.sampled_from(LABELS)), *keys))
    return out, w, h, n


def _same(a: Any, b: Any) -> bool:
    """Equal numbers (an int and its float are the same coordinate; the sign of 0 is not kept)."""
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return bool(a == b) and not (isinstance(a, float) and math.isnan(a))
    return bool(a == b)


@given(tracks())
@settings(max_examples=60, deadline=None)
def test_mot_round_trip_keeps_every_keyframe(case: tuple[list[dict[str, Any]], int, int, int]) -> None:
    made, w, h, n = case
    video = mot_in.Frame(w, h, n)
    gt, keys = _mot(made, n)
    back = _read_mot(gt, keys, video)
    assert _same([t["keyframes"] for t in back], [t["keyframes"] for t in made])
    assert [t["label"] for t in back] == [t["label"] for t in made]
    # Exporting what was imported writes the same files.
    renumbered = [{**t, "id": str(i)} for i, t in enumerate(made, 1)]
    assert _mot(back, n) == _mot(renumbered, n)


@given(tracks())
@settings(max_examples=60, deadline=None)
def test_keyframes_from_gt_alone_give_back_every_box(case: tuple[list[dict[str, Any]], int, int, int]) -> None:
    made, w, h, n = case
    gt, _ = _mot(made, n)
    back = _read_mot(gt, None, mot_in.Frame(w, h, n))
    assert _mot(back, n)[0] == gt
    whole = all(float(v * 4).is_integer() for t in made for k in t["keyframes"] for v in k["box"] or [])
    for a, b in zip(made, back, strict=True):
        drawn = [k["frame"] for k in a["keyframes"] if not k["outside"]]
        found = [k["frame"] for k in b["keyframes"] if not k["outside"]]
        if whole:  # whole and quarter pixels: found again (but those on their neighbours' line)
            assert set(found) <= set(drawn)


@given(tracks())
@settings(max_examples=60, deadline=None)
def test_cvat_round_trip_keeps_every_keyframe(case: tuple[list[dict[str, Any]], int, int, int]) -> None:
    made, w, h, n = case
    raw = _cvat(made, n, w, h)
    back, problems = cvat_in.cvat_tracks(raw, "a.xml", labels=LABELS, attributes=[],
                                         video=mot_in.Frame(w, h, n))
    assert problems == []
    assert _same([t["keyframes"] for t in back], [t["keyframes"] for t in made])
    assert [t["id"] for t in back] == [str(i) for i in range(len(made))]
    assert _cvat(back, n, w, h) == raw


def _cvat(made: list[dict[str, Any]], n: int, w: int, h: int) -> bytes:
    return b"".join([cvat_out.head(Spec, "clip", "clips/a.mp4", n, w, h),
                     *cvat_out.tracks_xml([(None, t) for t in made], n), cvat_out.TAIL])


def test_cvat_xml_has_cvats_documented_layout() -> None:
    raw = _cvat(HAND, 20, 320, 240)
    root = ET.fromstring(raw)
    assert root.tag == "annotations" and root.findtext("version") == "1.1"
    task = root.find("meta/task")
    assert task is not None and task.findtext("size") == "20" and task.findtext("mode") == "interpolation"
    assert [e.text for e in root.findall("meta/task/labels/label/name")] == LABELS
    assert task.findtext("original_size/width") == "320"
    t1, t2 = root.findall("track")
    assert (t1.get("id"), t1.get("label"), t2.get("label")) == ("0", "car", "person")
    boxes = t1.findall("box")
    assert len(boxes) == 20 and [b.get("frame") for b in boxes] == [str(f) for f in range(20)]
    assert [b.get("keyframe") for b in boxes].count("1") == 2
    assert boxes[5].attrib == {"frame": "5", "keyframe": "0", "outside": "0", "occluded": "0",
                               "xtl": "20", "ytl": "20", "xbr": "120", "ybr": "80", "z_order": "0"}
    assert boxes[10].get("occluded") == "1"
    last = t2.findall("box")[-1]
    assert (last.get("frame"), last.get("outside"), last.get("keyframe")) == ("4", "1", "1")


def test_a_per_frame_shape_goes_out_as_a_one_frame_track() -> None:
    value = {"tracks": [], "shapes": [{"frame": 3, "label": "car", "box": [1, 2, 3, 4]}]}
    (t,) = answer_tracks(value, 10)
    assert [(k["frame"], k["outside"]) for k in t["keyframes"]] == [(3, False), (4, True)]
    (t,) = answer_tracks({"tracks": [], "shapes": [{"frame": 9, "label": "car", "box": [1, 2, 3, 4]}]}, 10)
    assert [k["frame"] for k in t["keyframes"]] == [9]


# -- problems named by file, line and field -----------------------------------------------------

def _problems(gt: str, video: mot_in.Frame = mot_in.Frame(320, 240, 20)) -> list[tuple[Any, ...]]:
    _, found = mot_in.read_gt(gt, "a/gt/gt.txt", labels=LABELS, names=None, video=video)
    return [(p.file, p.line, p.field) for p in found]


def test_mot_problems_name_file_line_and_field() -> None:
    assert _problems("1,1,0,0,5,5,1,3,1\n") == [("a/gt/gt.txt", 1, "class")]
    assert _problems("1,1,0,0,5,5,1,1,1\n21,1,0,0,5,5,1,1,1\n") == [("a/gt/gt.txt", 2, "frame")]
    assert _problems("1,1,318,0,5,5,1,1,1\n") == [("a/gt/gt.txt", 1, "bb_width")]
    assert _problems("1,1,-1,0,5,5,1,1,1\n") == [("a/gt/gt.txt", 1, "bb_left")]
    assert _problems("1,1,0,0,5,5,1,1,1\n\n1,1,2,2,5,5,1,1,1\n") == [("a/gt/gt.txt", 3, "id")]
    assert _problems("1,1,0,0,5,5,1,1\n") == [("a/gt/gt.txt", 1, None)]
    assert _problems("1,1,0,x,5,5,1,1,1\n") == [("a/gt/gt.txt", 1, "bb_top")]
    # A line MOT marks to be ignored (conf 0) is not read, whatever it says.
    assert _problems("1,1,0,0,5,5,0,1,1\n") == []
    names = ["person", "bicycle"]
    _, found = mot_in.read_gt("1,1,0,0,5,5,1,2,1\n", "g", labels=LABELS, names=names,
                              video=mot_in.Frame(320, 240, 20))
    assert [(p.line, p.field) for p in found] == [(1, "class")] and "bicycle" in found[0].message


def test_an_edited_gt_is_refused_against_its_keyframes() -> None:
    gt, keys = _mot(HAND, 20)
    edited = gt.replace("6,1,20,20,100,60", "6,1,21,20,99,60")
    video = mot_in.Frame(320, 240, 20)
    rows, _ = mot_in.read_gt(edited, "g", labels=LABELS, names=None, video=video)
    sidecar, _ = mot_in.read_keyframes(keys, "k", video)
    _, found = mot_in.mot_tracks(rows, sidecar, gt="g", sidecar="k", frame_count=20)
    assert [(p.file, p.line, p.field) for p in found] == [("g", 6, "bb_left")]


def test_cvat_problems_name_file_line_and_attribute() -> None:
    raw = _cvat(HAND, 20, 320, 240).decode()
    video = mot_in.Frame(320, 240, 20)

    def found(text: str) -> list[tuple[Any, ...]]:
        _, problems = cvat_in.cvat_tracks(text.encode(), "a.xml", labels=LABELS, attributes=[], video=video)
        return [(p.line, p.field) for p in problems]

    line_of = {n: i for i, n in enumerate(raw.splitlines(), 1)}
    first_box = next(n for n in line_of if '<box frame="0"' in n)
    assert found(raw.replace('label="person"', 'label="truck"')) == [
        (next(i for n, i in line_of.items() if 'label="person"' in n), "label")]
    assert found(raw.replace('<box frame="0" ', '<box frame="25" ')) == [(line_of[first_box], "frame")]
    assert found(raw.replace('xbr="110"', 'xbr="321"')) == [(line_of[first_box], "xbr")]
    assert found(raw.replace('<box frame="1" ', '<box frame="0" '))[0][1] == "frame"
    assert found("<!DOCTYPE x [<!ENTITY a 'b'>]><annotations/>") == [(None, None)]
    assert found('<annotations><image id="0" name="a.jpg"/></annotations>') == [(1, "image")]


def test_vis_annotation_has_a_box_or_null_per_frame() -> None:
    ann = vis_out.annotation(HAND[1], None, ann_id=1, video_id=1, category_id=2, frame_count=6)
    assert ann["bboxes"] == [None, None, [0, 0, 5, 5], [0, 0, 5, 5], None, None]
    assert ann["areas"] == [None, None, 25, 25, None, None]
    assert ann["keyframes"] == [2] and ann["occluded"] == []


def test_yolo_lines_per_frame() -> None:
    lines = frames_out.frame_lines([(None, {"tracks": HAND[:1], "shapes": []})], LABELS, 12, 320, 240)
    assert sorted(lines) == list(range(12))
    cx, cy, w, h = (float(v) for v in lines[5][0].split()[1:])
    assert lines[5][0].startswith("0 ")
    assert (cx * 320, cy * 240, w * 320, h * 240) == pytest.approx((70, 50, 100, 60))


def test_jpeg_frames_are_the_frames_asked_for(tmp_path: Any) -> None:
    from PIL import Image

    from labelloop.services.video.testcard import read_number, write_video

    card = write_video(tmp_path / "card.mp4", 30, vfr=True)
    with card.path.open("rb") as f:
        got = dict(frames_out.jpeg_frames(f, {0, 7, 29}, 0))
    import numpy as np

    assert {n: read_number(np.asarray(Image.open(io.BytesIO(j)).convert("RGB"))) for n, j in got.items()} \
        == {0: 0, 7: 7, 29: 29}


CVAT_WRITTEN = b"""<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>7</id><name>street</name><size>20</size><mode>interpolation</mode>
      <labels><label><name>car</name><attributes><attribute><name>parked</name><mutable>False</mutable>
        <input_type>select</input_type><default_value>no</default_value><values>no
yes</values></attribute></attributes></label></labels>
      <original_size><width>320</width><height>240</height></original_size>
    </task>
    <dumped>2024-05-01 10:00:00.000000+00:00</dumped>
  </meta>
  <track id="3" label="car" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="10.00" ytl="20.00" xbr="110.00" ybr="80.00" z_order="0">
      <attribute name="parked">yes</attribute>
      <attribute name="colour">red</attribute>
    </box>
    <box frame="1" keyframe="0" outside="0" occluded="0" xtl="10.67" ytl="20.00" xbr="110.67" ybr="80.00" z_order="0">
      <attribute name="parked">yes</attribute>
    </box>
    <box frame="3" keyframe="1" outside="0" occluded="1" xtl="12.00" ytl="20.00" xbr="112.00" ybr="80.00" z_order="0">
      <attribute name="parked">yes</attribute>
    </box>
    <box frame="4" keyframe="1" outside="1" occluded="0" xtl="12.00" ytl="20.00" xbr="112.00" ybr="80.00" z_order="0">
      <attribute name="parked">yes</attribute>
    </box>
  </track>
</annotations>
"""


def test_a_file_as_cvat_writes_it() -> None:
    """CVAT's own export: two-decimal coordinates, a <dumped> date, interpolated boxes between, an
    attribute the question does not declare (left out)."""
    tracks, problems = cvat_in.cvat_tracks(CVAT_WRITTEN, "street.xml", labels=LABELS, attributes=["parked"],
                                           video=mot_in.Frame(320, 240, 20))
    assert problems == []
    assert tracks == [{"id": "3", "label": "car", "attributes": {"parked": "yes"}, "keyframes": [
        {"frame": 0, "box": [10.0, 20.0, 110.0, 80.0], "outside": False, "occluded": False},
        {"frame": 3, "box": [12.0, 20.0, 112.0, 80.0], "outside": False, "occluded": True},
        {"frame": 4, "box": [12.0, 20.0, 112.0, 80.0], "outside": True, "occluded": False}]}]
    _, problems = cvat_in.cvat_tracks(CVAT_WRITTEN, "street.xml", labels=LABELS, attributes=[],
                                      video=mot_in.Frame(640, 480, 20))
    line = next(n for n, text in enumerate(CVAT_WRITTEN.split(b"\n"), 1) if b"<original_size>" in text)
    assert [(p.line, p.field) for p in problems] == [(line, "original_size")]
