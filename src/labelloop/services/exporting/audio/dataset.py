"""An audio-dataset export streamed as a zip: NeMo manifests, SRT, WebVTT or RTTM with the audio
files (docs/audio.md, "Formats"); the audio counterpart of images/dataset.py, in the same passes over one
snapshot, memory flat in the number and length of the files.

Layouts:
- nemo: `manifest.jsonl` (one line per segment), `metadata.jsonl` (Hugging Face audiofolder, one
  line per file, for transcripts), the files under `audio/`;
- srt, webvtt, rttm: each audio file at its name (`calls/07.wav`) with its annotation file beside
  it (`calls/07.srt`, `.vtt`, `.rttm`), where players and diarization tools look for it.
With `images=refs` the audio files are left out and `references.csv` names each one's
`blob:<sha256>` reference (served at `GET /api/projects/{id}/blobs/{sha256}`); items that could not
be exported are listed in `skipped.csv` with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection

from labelloop.services.exporting.audio import manifest, rttm, subtitles
from labelloop.services.exporting.audio.plan import AudioPlan, Clip, clips
from labelloop.services.exporting.images.dataset import _csv
from labelloop.services.exporting.media import Skipped, stem
from labelloop.services.exporting.zipstream import ZipStream
from labelloop.store.blobs import BlobStore


def _path(plan: AudioPlan, clip: Clip) -> str:
    return manifest.audio_path(clip) if plan.format == "nemo" else clip.name


def _annotation(plan: AudioPlan, clip: Clip) -> tuple[str, bytes]:
    if plan.format == "srt":
        return stem(clip.name) + subtitles.SUFFIX["srt"], subtitles.srt_file(plan, clip)
    if plan.format == "webvtt":
        return stem(clip.name) + subtitles.SUFFIX["webvtt"], subtitles.vtt_file(plan, clip)
    return stem(clip.name) + rttm.SUFFIX, rttm.rttm_file(clip)


def stream_audio_dataset(
    conn: Connection, project_id: int, plan: AudioPlan, store: BlobStore
) -> Iterator[bytes]:
    """The archive's bytes (`conn` is a snapshot held open while they are read)."""
    zs = ZipStream()

    def found() -> Iterator[Clip]:
        return (c for c in clips(conn, project_id, plan) if isinstance(c, Clip))

    if plan.format == "nemo":
        yield from zs.text(manifest.MANIFEST, (manifest.manifest_lines(plan, c) for c in found()))
        if manifest.has_metadata(plan):
            yield from zs.text(manifest.METADATA, manifest.metadata_lines(found()))
    skipped = 0
    for c in clips(conn, project_id, plan):
        if isinstance(c, Skipped):
            skipped += 1
            continue
        if plan.format != "nemo":
            name, body = _annotation(plan, c)
            yield from zs.text(name, iter([body]))
        if plan.files == "include":
            with store.open(c.sha256) as f:
                yield from zs.file(_path(plan, c), f)
    if plan.files == "refs":
        rows = ([_path(plan, c), c.reference] for c in found())
        yield from zs.text("references.csv", _csv(rows, ["file", "reference"]))
    if skipped:
        left = ([c.external_id, c.reason] for c in clips(conn, project_id, plan) if isinstance(c, Skipped))
        yield from zs.text("skipped.csv", _csv(left, ["id", "reason"]))
    yield zs.close()
