"""Built-in label types, grouped by kind of answer. Importing this package registers each one."""

from labelloop.schema.types.audio import segments as audio_segments
from labelloop.schema.types.choices import choice, multi_choice, rating
from labelloop.schema.types.feedback import criteria, preference, ranking, response_spans, rewrite
from labelloop.schema.types.shapes import bbox, keypoints, mask, polygon, polyline, rotated_bbox
from labelloop.schema.types.text import free_text, spans
from labelloop.schema.types.video import segments as video_segments
from labelloop.schema.types.video import tracks as video_tracks

__all__ = [
    "audio_segments",
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
    "video_segments",
    "video_tracks",
]
