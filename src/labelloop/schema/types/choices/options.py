"""Options of choice-like questions: plain strings or objects with a label and a key."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from labelloop.schema.label_type import QuestionBase


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, max_length=200)
    label: str | None = None
    hint: str | None = None
    key: str | None = Field(None, min_length=1, max_length=1, description="Keyboard shortcut.")

    @property
    def title(self) -> str:
        return self.label or self.value


class OptionsQuestion(QuestionBase):
    options: list[Option] = Field(min_length=1, max_length=1000)

    @field_validator("options", mode="before")
    @classmethod
    def _strings_to_options(cls, raw: Any) -> Any:
        if isinstance(raw, list | tuple):
            return [{"value": o} if isinstance(o, str) else o for o in raw]
        return raw

    @model_validator(mode="after")
    def _unique(self) -> OptionsQuestion:
        seen: set[str] = set()
        keys: set[str] = set()
        for o in self.options:
            if o.value in seen:
                raise ValueError(f"option {o.value!r} is listed twice")
            seen.add(o.value)
            if o.key is not None:
                if o.key in keys:
                    raise ValueError(f"key {o.key!r} is used by two options")
                keys.add(o.key)
        return self

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)
