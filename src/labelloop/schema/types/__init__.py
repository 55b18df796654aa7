"""Built-in label types. Importing this package registers each one."""

from labelloop.schema.types import (
    bbox,
    choice,
    free_text,
    keypoints,
    mask,
    multi_choice,
    polygon,
    polyline,
    rating,
    rotated_bbox,
    spans,
)

__all__ = [
    "bbox",
    "choice",
    "free_text",
    "keypoints",
    "mask",
    "multi_choice",
    "polygon",
    "polyline",
    "rating",
    "rotated_bbox",
    "spans",
]
