"""Exports of image datasets: COCO, YOLO and Pascal VOC, streamed as a zip (docs/images.md, "Formats")."""
