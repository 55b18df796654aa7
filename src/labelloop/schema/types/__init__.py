"""Built-in label types. Importing this package registers each one."""

from labelloop.schema.types import (
    bbox,
    choice,
    criteria,
    free_text,
    keypoints,
    mask,
    multi_choice,
    polygon,
    polyline,
    preference,
    ranking,
    rating,
    response_spans,
    rewrite,
    rotated_bbox,
    spans,
)

__all__ = [
    "bbox",
    "choice",
    "criteria",
    "free_text",
    "keypoints",
    "mask",
    "multi_choice",
    "polygon",
    "polyline",
    "preference",
    "ranking",
    "rating",
    "response_spans",
    "rewrite",
    "rotated_bbox",
    "spans",
]
