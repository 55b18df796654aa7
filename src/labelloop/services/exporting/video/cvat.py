"""CVAT for video 1.1 (CVAT's documented XML, docs.cvat.ai "CVAT for video"), one file per video,
`<video name without suffix>.xml` beside the video.

    <annotations>
      <version>1.1</version>
      <meta><task> ... <size>N</size><mode>interpolation</mode><start_frame>0</start_frame>
        <stop_frame>N-1</stop_frame><labels><label><name>car</name><type>rectangle</type>
        <attributes>...</attributes></label></labels>
        <original_size><width>W</width><height>H</height></original_size></task>
        <source>clips/a.mp4</source></meta>
      <track id="0" label="car" source="manual">
        <box frame="0" keyframe="1" outside="0" occluded="0" xtl="10" ytl="20" xbr="110"
             ybr="80" z_order="0"><attribute name="parked">no</attribute></box>
        ...
      </track>
    </annotations>

As CVAT writes a track: a `<box>` for every frame where it has a box (`keyframe="0"` for the
interpolated ones), and one for each `outside` keyframe (`outside="1"`, the keyframe's box).
Frames are 0-based, coordinates the displayed pixels' edges (`xtl ytl xbr ybr` = x1 y1 x2 y2),
numbers as `images/coords.py` writes them (they read back as the same float). Track ids are the
tracks' places from 0; attributes are the track's (CVAT's immutable attributes), repeated on each
box as CVAT does. With answers exported, each track's annotator is in an `annotator` attribute
of the track element (not a CVAT attribute: CVAT ignores it).
Per-frame shapes go out as one-frame tracks (`tracks.py`), as CVAT itself writes shapes in a video.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from labelloop.services.exporting.images.coords import text, whole
from labelloop.services.exporting.video.tracks import Track, frame_boxes

# XML 1.0 cannot hold control characters but tab, newline and carriage return, even escaped.
_NOT_XML = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)], "\ufffd")


def _s(value: Any) -> str:
    return escape(str(value).translate(_NOT_XML))


def _a(value: Any) -> str:
    return quoteattr(str(value).translate(_NOT_XML))


def _n(x: Any) -> str:
    return text(whole(x))


def _attribute_meta(spec: Any) -> str:
    out = ""
    for a in getattr(spec, "attributes", None) or []:
        options = list(getattr(a, "options", None) or [])
        kind = "select" if options else "text"
        default = options[0] if options else ""
        out += (f"<attribute><name>{_s(a.name)}</name><mutable>False</mutable>"
                f"<input_type>{kind}</input_type><default_value>{_s(default)}</default_value>"
                f"<values>{_s(chr(10).join(str(o) for o in options))}</values></attribute>")
    return out


def head(spec: Any, name: str, source: str, frame_count: int, width: int, height: int) -> bytes:
    """The XML declaration, `<annotations>` and `<meta>`."""
    attributes = _attribute_meta(spec)
    labels = "".join(f"<label><name>{_s(v)}</name><color>#000000</color><type>rectangle</type>"
                     f"<attributes>{attributes}</attributes></label>" for v in spec.values)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n'
        f"    <task><name>{_s(name)}</name><size>{frame_count}</size><mode>interpolation</mode>"
        f"<overlap>0</overlap><flipped>False</flipped><start_frame>0</start_frame>"
        f"<stop_frame>{max(frame_count - 1, 0)}</stop_frame>"
        f"<labels>{labels}</labels><original_size><width>{width}</width><height>{height}</height>"
        f"</original_size></task>\n    <source>{_s(source)}</source>\n  </meta>\n"
    ).encode()


def _box(frame: int, box: Sequence[Any], *, keyframe: bool, outside: bool, occluded: bool,
         attributes: str) -> str:
    x1, y1, x2, y2 = box
    return (f'    <box frame="{frame}" keyframe="{int(keyframe)}" outside="{int(outside)}" '
            f'occluded="{int(occluded)}" xtl="{_n(x1)}" ytl="{_n(y1)}" xbr="{_n(x2)}" ybr="{_n(y2)}" '
            f'z_order="0">{attributes}</box>\n')


def track_xml(number: int, track: Track, frame_count: int, annotator: str | None = None) -> bytes:
    """One `<track>` with a `<box>` per frame, in frame order."""
    attributes = "".join(f"<attribute name={_a(k)}>{_s(v)}</attribute>"
                         for k, v in (track.get("attributes") or {}).items())
    who = f" annotator={_a(annotator)}" if annotator is not None else ""
    rows: list[tuple[int, str]] = []
    for fb in frame_boxes(track, frame_count):
        rows.append((fb.frame, _box(fb.frame, fb.box, keyframe=fb.keyframe, outside=False,
                                    occluded=fb.occluded, attributes=attributes)))
    prior: Sequence[Any] | None = None
    for k in track["keyframes"]:
        if k["outside"] and k["frame"] < frame_count:
            box = k.get("box") or prior or [0, 0, 0, 0]
            rows.append((k["frame"], _box(k["frame"], box, keyframe=True, outside=True,
                                          occluded=bool(k["occluded"]), attributes=attributes)))
        if k.get("box") is not None:
            prior = k["box"]
    rows.sort(key=lambda r: r[0])
    body = "".join(r for _, r in rows)
    return (f'  <track id="{number}" label={_a(track["label"])} source="manual"{who}>\n{body}'
            "  </track>\n").encode()


def tracks_xml(tracks: Sequence[tuple[str | None, Track]], frame_count: int) -> Iterator[bytes]:
    for number, (who, track) in enumerate(tracks):
        yield track_xml(number, track, frame_count, who)


TAIL = b"</annotations>\n"
