"""Per-frame images with YOLO labels (Ultralytics' detect layout, as images/yolo.py writes it):
`data.yaml`, and for each frame of a video where some track has a box, the frame as a JPEG at
`images/<video>/<frame>.jpg` and its boxes at `labels/<video>/<frame>.txt` (`<video>` the video's
name without its suffix, `<frame>` the 0-based frame number in six digits or more).

One line per box: `class cx cy w h`, the label's 0-based place in the question's labels, then the
box's centre and size divided by the frame's displayed width or height (the numbers `images/
coords.py` writes, which read back as the same pixels). Boxes are the tracks' after interpolation,
so every frame between keyframes is a training example; per-frame shapes are on their frame.
The frames are decoded once, in display order, with PyAV (frame i is the i-th decoded, as the
probe counts them), turned by the container's rotation and written as JPEG (quality 95). With
`images=refs` no JPEG is written and `references.csv` names the videos.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import IO, Any

import yaml

from labelloop.services.exporting.images.coords import centre_and_size, text
from labelloop.services.exporting.video.mot import folder
from labelloop.services.exporting.video.tracks import answer_tracks, frame_boxes
from labelloop.services.video.probe import video_stream

IMAGES_DIR = "images"
LABELS_DIR = "labels"
DATA = "data.yaml"
QUALITY = 95


def data_yaml(question: str, labels: Sequence[str]) -> bytes:
    doc: dict[str, Any] = {"path": ".", "train": IMAGES_DIR, "val": IMAGES_DIR, "nc": len(labels),
                           "names": dict(enumerate(labels))}
    head = f"# video_tracks boxes of question {question!r}, one image per frame, exported by labelloop\n"
    return (head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)).encode()


def frame_name(video_name: str, frame: int, suffix: str) -> str:
    return f"{folder(video_name)}/{frame:06d}{suffix}"


def frame_lines(
    values: Sequence[tuple[str | None, Any]], labels: Sequence[str], frame_count: int, width: int, height: int
) -> dict[int, list[str]]:
    """{frame: its label lines}, for the frames where some track has a box."""
    out: dict[int, list[str]] = {}
    for _, value in values:
        for track in answer_tracks(value, frame_count):
            cls = str(labels.index(track["label"]))
            for fb in frame_boxes(track, frame_count):
                x1, y1, x2, y2 = fb.box
                cx, w = centre_and_size(x1, x2, width)
                cy, h = centre_and_size(y1, y2, height)
                out.setdefault(fb.frame, []).append(" ".join([cls, text(cx), text(cy), text(w), text(h)]))
    return out


def jpeg_frames(source: IO[bytes], wanted: set[int], rotation: int) -> Iterator[tuple[int, bytes]]:
    """(frame number, JPEG) for each wanted frame, decoding the video once up to the last wanted."""
    import av

    if not wanted:
        return
    last = max(wanted)
    with av.open(source, mode="r") as container:
        stream = video_stream(container)
        if stream is None:
            return
        stream.codec_context.thread_type = "AUTO"
        for n, frame in enumerate(container.decode(stream)):
            if n in wanted:
                image = frame.to_image()
                if rotation:  # clockwise degrees; PIL turns counter-clockwise
                    image = image.rotate(-rotation, expand=True)
                out = io.BytesIO()
                image.convert("RGB").save(out, format="JPEG", quality=QUALITY)
                yield n, out.getvalue()
            if n >= last:
                return
