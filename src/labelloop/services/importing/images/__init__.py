"""Images at import: each image file checked and stored (files.py), and image datasets with their
annotations, COCO, YOLO or Pascal VOC (datasets.py and one module per format; docs/images.md)."""
