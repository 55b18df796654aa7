"""A project's learning-loop settings: pre-labels, queue strategy, encoder, auto-labelling, and
the image models (detector, segmenter), the speech model (transcriber) and the video tracker."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from labelloop.errors import Invalid, Problem

STRATEGIES = ("random", "least_confidence", "margin", "entropy", "diversity", "hybrid", "cold_start")
TEXT_ENCODERS = ("hashed-tfidf", "minilm", "multilingual-e5")
IMAGE_ENCODERS = ("efficientnet-lite3", "image-features")
ENCODERS = TEXT_ENCODERS + IMAGE_ENCODERS


class LoopSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prelabels: Literal["off", "suggest", "require"] = Field(
        "suggest",
        description="Show the latest model's answer to annotators as a suggestion; `require` hands "
        "out only items that have one (none at all while no model passes suggest_min_accuracy).",
    )
    preselect: bool = Field(
        False,
        description="Pre-fill the answer with the suggestion, so that Enter accepts it. Off, the "
        "suggestion is shown beside the questions and one key applies it: a pre-filled answer "
        "anchors annotators to the model.",
    )
    suggest_min_accuracy: float | None = Field(
        0.8, ge=0.0, le=1.0,
        description="Suggest only from a model whose held-out accuracy (out-of-fold, else on gold "
        "items) is at least this (None: from any model, measured or not).",
    )
    model: str = Field(
        "builtin", description="builtin, the URL of a team's model server, or python:<entry point>."
    )
    strategy: str = Field("hybrid", description=f"How a round orders the queue: {', '.join(STRATEGIES)}.")
    encoder: str = Field(
        "hashed-tfidf",
        description=f"Encoder of the items a round embeds: for text {', '.join(TEXT_ENCODERS)}; for "
        f"images {', '.join(IMAGE_ENCODERS)} (a text encoder named on an image project, as by "
        "default, means the best installed: efficientnet-lite3 with the images-models extra, else "
        "image-features).",
    )
    ngrams: bool = Field(
        True,
        description="Text items, built-in model, a sentence encoder (minilm, multilingual-e5): stack "
        "TF-IDF word and character n-grams beside the embeddings (docs/learn.md). Off: a linear model "
        "on the embeddings alone. hashed-tfidf is word n-grams already and gets none.",
    )
    finetune: bool = Field(
        False,
        description="Text items, built-in model, minilm encoder: fine-tune the encoder on part of the "
        "labels each round and classify with the rest (the finetune extra; docs/learn.md). Without "
        "the extra, or under finetune_min_labels, the round uses the frozen encoder and says why.",
    )
    finetune_min_labels: int = Field(
        200, ge=4, le=1_000_000, description="Labelled items a round needs before it fine-tunes."
    )
    finetune_seconds: float = Field(
        120.0, gt=0.0, le=3600.0,
        description="Time budget of a round's fine-tuning (training steps; embedding the items with "
        "the tuned encoder comes on top).",
    )
    question: str | None = Field(
        None, description="The single-choice question the model learns (default: the first one)."
    )
    min_labels: int = Field(20, ge=2, le=1_000_000, description="Labelled items needed to train.")
    autolabel_target: float | None = Field(
        0.95, gt=0.0, lt=1.0, description="Auto-label items whose accuracy is shown to be at least this "
        "(None: never auto-label).",
    )
    autolabel_alpha: float = Field(0.05, gt=0.0, lt=0.5, description="Error rate of that guarantee.")
    validation_items: int = Field(
        100, ge=0, le=100_000,
        description="Items drawn at random (every other task until there are this many) whose human "
        "labels certify auto-labels; a strategy's picks cannot, being harder than the rest.",
    )
    label_error_confidence: float = Field(
        0.9, gt=0.5, le=1.0,
        description="Model confidence in its own answer from which a suspected label error is flagged "
        "and goes to review.",
    )
    label_error_min_per_class: int = Field(
        10, ge=1, le=1_000_000,
        description="Labelled items a class needs before a round flags labels in or out of it (and "
        "the model must also beat chance at 95%).",
    )

    detector: str | None = Field(
        None,
        description="Pre-labels a bbox question (POST .../loop/prelabel): coco (the offline COCO "
        "detector, images-models extra), the URL of a team's detector, python:<entry point>, or "
        "None.",
    )
    detector_question: str | None = Field(
        None, description="The bbox question the detector pre-labels (default: the first one)."
    )
    detector_labels: dict[str, str] | None = Field(
        None,
        description="Detector classes to the question's labels ({\"person\": \"pedestrian\"}); "
        "detections of other classes are dropped. None: the detector's own class names, kept when "
        "they are labels of the question.",
    )
    detector_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Detections scoring under this are dropped."
    )
    segmenter: str = Field(
        "grabcut",
        description="Interactive masks (POST .../items/{item}/segment): grabcut (built in), the URL "
        "of a team's segmenter, or python:<entry point>.",
    )
    tracker: str = Field(
        "opencv",
        description="Proposes a video track's boxes on the next frames (POST .../items/{item}/track): "
        "opencv (built in: CSRT, KCF or MIL, the best the installed OpenCV has; opencv-mil etc. for "
        "one), the URL of a team's tracker, or python:<entry point>.",
    )

    transcriber: str | None = Field(
        None,
        description="Pre-labels an audio_segments question (POST .../loop/prelabel): whisper (Whisper "
        "tiny.en offline, speech extra; on a question without transcripts its voice-activity detector "
        "alone), vad (voice activity alone), the URL of a team's speech model, python:<entry point>, "
        "or None.",
    )
    transcriber_question: str | None = Field(
        None, description="The audio_segments question the transcriber pre-labels (default: the first)."
    )
    transcriber_label: str | None = Field(
        None, description="The question's label that speech segments get (default: its first label)."
    )

    @field_validator("transcriber")
    @classmethod
    def _transcriber(cls, v: str | None) -> str | None:
        if v is not None and v not in ("whisper", "vad") and not v.startswith(("http://", "https://",
                                                                                "python:")):
            raise ValueError("whisper, vad, an http(s) URL, python:<entry point name>, or null")
        return v

    @field_validator("detector")
    @classmethod
    def _detector(cls, v: str | None) -> str | None:
        if v is not None and v != "coco" and not v.startswith(("http://", "https://", "python:")):
            raise ValueError("coco, an http(s) URL, python:<entry point name>, or null")
        return v

    @field_validator("detector_labels")
    @classmethod
    def _detector_labels(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is not None and (len(v) > 1000 or any(not k or not t for k, t in v.items())):
            raise ValueError("at most 1000 pairs of non-empty names")
        return v

    @field_validator("segmenter")
    @classmethod
    def _segmenter(cls, v: str) -> str:
        if v != "grabcut" and not v.startswith(("http://", "https://", "python:")):
            raise ValueError("grabcut, an http(s) URL, or python:<entry point name>")
        return v

    @field_validator("tracker")
    @classmethod
    def _tracker(cls, v: str) -> str:
        if v not in ("opencv", "opencv-csrt", "opencv-kcf", "opencv-mil") and not v.startswith(
                ("http://", "https://", "python:")):
            raise ValueError("opencv (or opencv-csrt, opencv-kcf, opencv-mil), an http(s) URL, or "
                             "python:<entry point name>")
        return v

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, v: str) -> str:
        if v not in STRATEGIES:
            raise ValueError(f"one of {', '.join(STRATEGIES)}")
        return v

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        if v != "builtin" and not v.startswith(("http://", "https://", "python:")):
            raise ValueError("builtin, an http(s) URL, or python:<entry point name>")
        return v

    @field_validator("encoder")
    @classmethod
    def _encoder(cls, v: str) -> str:
        if v not in ENCODERS:
            raise ValueError(f"one of {', '.join(ENCODERS)}")
        return v


def loop_settings(document: dict[str, Any] | None) -> LoopSettings:
    return _parsed(orjson.dumps(document or {}, option=orjson.OPT_SORT_KEYS))


@lru_cache(maxsize=512)
def _parsed(document: bytes) -> LoopSettings:
    return LoopSettings.model_validate(orjson.loads(document))


def check_loop_settings(document: dict[str, Any]) -> LoopSettings:
    try:
        return LoopSettings.model_validate(document)
    except ValidationError as e:
        raise Invalid("invalid loop settings", [
            Problem(err["msg"], field="loop." + ".".join(str(p) for p in err["loc"])) for err in e.errors()
        ]) from None
