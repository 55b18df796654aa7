"""Importing items from files: readers per format, record checks, and the batched writer.

The format-independent core is here; what belongs to one kind of data is grouped by it: `images/`
(image files, COCO, YOLO, Pascal VOC), `audio/` (audio files, NeMo manifests, SRT, WebVTT, RTTM)
and `feedback/` (language-model data: chat mappings, Hugging Face `save_to_disk` folders).
"""
