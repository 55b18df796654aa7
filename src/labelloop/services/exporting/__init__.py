"""Exports of datasets streamed as a zip, grouped by kind of data: `images/` (COCO, YOLO and Pascal
VOC; docs/images.md, "Formats"), `audio/` (NeMo manifests, SRT, WebVTT, RTTM; docs/audio.md) and
`feedback/` (training sets for language models; docs/feedback.md). The shared pieces (items read
in chunks, the zip stream, CSV cells, a file-like sink) are here.
"""
