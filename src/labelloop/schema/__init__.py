"""Label schemas: the document format and the label-type modules it is built from."""

from labelloop.schema.document import LabelSchema, Question, load_document, parse_schema
from labelloop.schema.fields import FieldSpec, check_field_value
from labelloop.schema.label_type import (
    Aggregate,
    AudioInfo,
    ImageInfo,
    LabelType,
    QuestionBase,
    Responses,
    Target,
    ValueProblem,
    VideoInfo,
)

__all__ = [
    "Aggregate",
    "AudioInfo",
    "FieldSpec",
    "ImageInfo",
    "LabelSchema",
    "LabelType",
    "Question",
    "QuestionBase",
    "Responses",
    "Target",
    "ValueProblem",
    "VideoInfo",
    "check_field_value",
    "load_document",
    "parse_schema",
]
