"""A release's modality manifests beside its Parquet files, written from the release's final labels.

- Image shapes: `coco-<split>.json` (COCO instances: boxes, rotated boxes, polygons, polylines,
  keypoints, RLE masks) and, for the shapes YOLO holds (boxes, polygons, keypoints), `yolo.zip` in
  Ultralytics' layout (`data.yaml` naming each split's folder, `labels/<split>/<image>.txt`).
- Audio segments: `nemo-<split>.jsonl`, NVIDIA NeMo's manifest (one line per segment).
- Video tracks: `mot-<split>.zip`, MOT Challenge ground truth, a sequence folder per video
  (`<video>/gt/gt.txt`, `gt/labels.txt`, labelloop's `gt/keyframes.txt`, `seqinfo.ini`), as the
  video export writes it (services/exporting/video/mot.py).
- `media.csv`: each file name these manifests use, with its split, item id and reference
  (`blob:<sha256>`, served at `GET /api/projects/{id}/blobs/{sha256}`).

The images and clips are never copied into the release: the manifests name them by file name and
`media.csv` pins each name to the SHA-256 of its bytes, so a release stays small and still says
exactly which bytes it means. The first shape question, the first `audio_segments` question
and the first `video_tracks` question of the schema are written (a question's objects come from
the final label, whoever decided it). An item whose image, clip or video is not stored here with
a known size (a URL, a file that is not an image, a video that was not probed) cannot be
described by these formats: it is left out of them and counted in the summary,
and stays in the Parquet files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import yaml
from sqlalchemy import Connection, select

from labelloop.schema import LabelSchema, Question
from labelloop.services.curation.manifest import Collected
from labelloop.services.curation.splits import SPLITS
from labelloop.services.exporting import media
from labelloop.services.exporting.audio import manifest as nemo
from labelloop.services.exporting.audio.plan import SUFFIX as AUDIO_SUFFIX
from labelloop.services.exporting.audio.plan import AudioPlan, Clip
from labelloop.services.exporting.images import coco, yolo
from labelloop.services.exporting.images.pictures import SUFFIX as IMAGE_SUFFIX
from labelloop.services.exporting.images.pictures import TYPES, DatasetPlan, Picture
from labelloop.services.exporting.video import mot
from labelloop.services.exporting.video.plan import KEPT as VIDEO_SUFFIXES
from labelloop.services.exporting.video.plan import SUFFIX as VIDEO_SUFFIX
from labelloop.services.exporting.video.plan import VideoFacts, video_facts
from labelloop.services.exporting.video.tracks import answer_tracks
from labelloop.services.exporting.zipstream import ZipStream
from labelloop.services.importing.names import AUDIO_SUFFIXES, IMAGE_SUFFIXES
from labelloop.services.targets import blob_hash
from labelloop.store.models import blob_audio, blobs

MEDIA_CSV = "media.csv"
YOLO_ZIP = "yolo.zip"
_LOOKUP = 5000  # blob rows read per query


@dataclass
class MediaSummary:
    """What the manifests hold, for the card: files written and items each format left out."""

    files: list[Path] = field(default_factory=list)
    described: dict[str, int] = field(default_factory=dict)  # format -> items in it
    left_out: dict[str, int] = field(default_factory=dict)  # format -> labelled items it cannot hold


def media_files(conn: Connection, schema: LabelSchema, got: Collected, split_of: np.ndarray,
                splits: Sequence[str], folder: Path) -> MediaSummary:
    """Write the manifests the schema's modalities have into `folder`; what was written."""
    out = MediaSummary()
    refs: list[list[str]] = []
    shape = next((q for q in schema.questions if q.kind.name in TYPES["coco"]), None)
    if shape is not None:
        _images(conn, shape, got, split_of, splits, folder, out, refs)
    segments = next((q for q in schema.questions if q.kind.name == "audio_segments"), None)
    if segments is not None:
        _audio(conn, segments, got, split_of, splits, folder, out, refs)
    tracks = next((q for q in schema.questions if q.kind.name == "video_tracks"), None)
    if tracks is not None and _mot_labels(tracks):
        _video(conn, tracks, got, split_of, splits, folder, out, refs)
    if refs:
        path = folder / MEDIA_CSV
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["format", "split", "file", "external_id", "reference"])
            w.writerows(refs)
        out.files.append(path)
    return out


def _facts(conn: Connection, hashes: set[str], audio: bool) -> dict[str, Any]:
    ordered, found = sorted(hashes), dict[str, Any]()
    for start in range(0, len(ordered), _LOOKUP):
        part = ordered[start:start + _LOOKUP]
        query = (select(blobs.c.sha256, blobs.c.media_type, blob_audio.c.duration)
                 .join(blob_audio, blob_audio.c.sha256 == blobs.c.sha256) if audio
                 else select(blobs.c.sha256, blobs.c.media_type, blobs.c.width, blobs.c.height))
        found |= {r.sha256: r for r in conn.execute(query.where(blobs.c.sha256.in_(part)))}
    return found


def _labelled(question: Question, got: Collected, rows: np.ndarray) -> Iterator[tuple[int, Any, list[Any]]]:
    """(position, the media reference, the question's values) of the items that have a value."""
    target = question.spec.target
    for i in rows:
        value = got.values[i].get(question.name)
        if value is not None:
            yield int(i), orjson.loads(got.data[i]).get(target), value


def _per_split(conn: Connection, q: Question, got: Collected, split_of: np.ndarray, n: int, *, audio: bool
               ) -> tuple[list[list[tuple[int, Any, list[Any]]]], dict[str, Any]]:
    """Per split, the labelled items of the question; and the stored facts of their files."""
    wanted = [list(_labelled(q, got, np.flatnonzero(split_of == s))) for s in range(n)]
    hashes = {h for part in wanted for _, ref, _ in part if (h := blob_hash(ref))}
    return wanted, _facts(conn, hashes, audio=audio)


def _images(conn: Connection, q: Question, got: Collected, split_of: np.ndarray, splits: Sequence[str],
            folder: Path, out: MediaSummary, refs: list[list[str]]) -> None:
    assert q.spec.target is not None  # a shape question always has one
    plan = DatasetPlan("coco", q, q.spec.target, "release", "refs")
    wanted, facts = _per_split(conn, q, got, split_of, len(splits), audio=False)
    by_split: dict[str, list[Picture]] = {}
    left_out = 0
    for s, part in zip(splits, wanted, strict=True):
        names = media.ArchiveNames(IMAGE_SUFFIX, ".img", IMAGE_SUFFIXES)
        pictures: list[Picture] = []
        for i, ref, value in part:
            blob = facts.get(blob_hash(ref) or "")
            if blob is None or not blob.width or not blob.height:
                left_out += 1
                continue
            pictures.append(Picture(len(pictures) + 1, got.external_id[i],
                                    names(got.item_ids[i], got.external_id[i], blob.media_type), ref,
                                    blob.sha256, blob.media_type, blob.width, blob.height,
                                    [(None, obj) for obj in value]))
        by_split[s] = pictures
    for s, pictures in by_split.items():
        path = folder / f"coco-{s}.json"
        path.write_bytes(b"".join(coco.instances(plan, lambda p=pictures: iter(p))))  # type: ignore[misc]
        out.files.append(path)
        refs += [["coco", s, p.name, p.external_id, p.reference] for p in pictures]
    out.described["coco"] = sum(len(p) for p in by_split.values())
    out.left_out["coco"] = left_out
    if q.kind.name in TYPES["yolo"]:
        out.files.append(_yolo_zip(plan, by_split, folder))
        out.described["yolo"], out.left_out["yolo"] = out.described["coco"], left_out


def _yolo_zip(plan: DatasetPlan, by_split: dict[str, list[Picture]], folder: Path) -> Path:
    """Ultralytics' layout with a folder per split; the images themselves are in media.csv."""
    zs, path = ZipStream(), folder / YOLO_ZIP
    head = yolo.data_yaml(plan).decode()
    doc = yaml.safe_load(head)
    for key in ("train", "val"):
        doc.pop(key, None)
    doc |= {_yaml_key(s): f"{yolo.IMAGES_DIR}/{s}" for s in by_split}
    body = head.splitlines()[0] + "\n" + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True,
                                                        default_flow_style=None)
    with path.open("wb") as f:
        for piece in zs.text(yolo.DATA, iter([body.encode()])):
            f.write(piece)
        for s, pictures in by_split.items():
            for p in pictures:
                for piece in zs.text(yolo.label_path(f"{s}/{p.name}"), iter([yolo.label_file(plan, p)])):
                    f.write(piece)
        f.write(zs.close())
    return path


def _yaml_key(split: str) -> str:
    return {"validation": "val"}.get(split, split)  # the names Ultralytics reads


def _audio(conn: Connection, q: Question, got: Collected, split_of: np.ndarray, splits: Sequence[str],
           folder: Path, out: MediaSummary, refs: list[list[str]]) -> None:
    assert q.spec.target is not None  # an audio_segments question always has one
    plan = AudioPlan("nemo", q, q.spec.target, "release", "refs")
    wanted, facts = _per_split(conn, q, got, split_of, len(splits), audio=True)
    count = {"described": 0, "left_out": 0}
    for s, part in zip(splits, wanted, strict=True):
        names = media.ArchiveNames(AUDIO_SUFFIX, ".audio", AUDIO_SUFFIXES)
        buf = io.BytesIO()
        for i, ref, value, blob in _stored(part, facts, count):
            clip = Clip(count["described"], got.external_id[i], names(got.item_ids[i], got.external_id[i],
                                                              blob.media_type),
                        ref, blob.sha256, blob.media_type, blob.duration, [(None, seg) for seg in value])
            buf.write(nemo.manifest_lines(plan, clip))
            refs.append(["nemo", s, nemo.audio_path(clip), clip.external_id, clip.reference])
        path = folder / f"nemo-{s}.jsonl"
        path.write_bytes(buf.getvalue())
        out.files.append(path)
    out.described["nemo"], out.left_out["nemo"] = count["described"], count["left_out"]


def _stored(part: list[tuple[int, Any, Any]], facts: dict[str, Any], count: dict[str, int],
            ) -> Iterator[tuple[int, Any, Any, Any]]:
    """The split's labelled items whose file is stored here, with its facts; `count` counts those
    described (the running number, from 1) and those left out."""
    for i, ref, value in part:
        blob = facts.get(blob_hash(ref) or "")
        if blob is None:
            count["left_out"] += 1
            continue
        count["described"] += 1
        yield i, ref, value, blob


def _mot_labels(q: Question) -> list[str]:
    """The question's labels when MOT's labels.txt can hold them (one a line), else none."""
    labels = list(q.spec.values)  # type: ignore[attr-defined]
    return [] if any(not v or "\n" in v or "\r" in v for v in labels) else labels


def _video(conn: Connection, q: Question, got: Collected, split_of: np.ndarray, splits: Sequence[str],
           folder: Path, out: MediaSummary, refs: list[list[str]]) -> None:
    labels = _mot_labels(q)
    wanted = [list(_labelled(q, got, np.flatnonzero(split_of == s))) for s in range(len(splits))]
    hashes = sorted({h for part in wanted for _, ref, _ in part if (h := blob_hash(ref))})
    facts: dict[str, VideoFacts] = {}
    for start in range(0, len(hashes), _LOOKUP):
        facts |= video_facts(conn, hashes[start:start + _LOOKUP])
    count = {"described": 0, "left_out": 0}
    for s, part in zip(splits, wanted, strict=True):
        names = media.ArchiveNames(VIDEO_SUFFIX, ".mp4", VIDEO_SUFFIXES)
        zs, path = ZipStream(), folder / f"mot-{s}.zip"
        with path.open("wb") as f:
            for i, ref, value, v in _stored(part, facts, count):
                name = names(got.item_ids[i], got.external_id[i], v.media_type)
                base, tracks = mot.folder(name), answer_tracks(value, v.frame_count)
                for file, body in ((mot.GT, mot.gt_lines(tracks, labels, v.frame_count)),
                                   (mot.KEYFRAMES, iter([mot.keyframe_lines(tracks)])),
                                   (mot.LABELS, iter([mot.labels_file(labels)])),
                                   (mot.SEQINFO, iter([mot.seqinfo(base, v.fps, v.frame_count, v.width,
                                                                   v.height)]))):
                    for piece in zs.text(f"{base}/{file}", body):
                        f.write(piece)
                refs.append(["mot", s, name, got.external_id[i], str(ref)])
            f.write(zs.close())
        out.files.append(path)
    out.described["mot"], out.left_out["mot"] = count["described"], count["left_out"]


def split_names(split: tuple[int, int, int] | None) -> tuple[str, ...]:
    """The splits a release has: all three, or only `train` when it was not split."""
    return SPLITS if split else SPLITS[:1]
