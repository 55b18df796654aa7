"""A project's generation settings: the OpenAI-compatible server that writes candidate responses,
how to ask it, and how hard to push it (docs/feedback.md, "Generation").

Stored as one JSON document on the project (`projects.generation_settings`); missing keys take the
defaults below. The API key is never part of it: the settings name the environment variable of the
server process that holds it, and the key is read when a job starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Connection, update

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema
from labelloop.services import audit
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.store.models import projects

MAX_CANDIDATES = 16  # a `responses` value holds at most this many (docs/feedback.md)
PROMPT_KINDS = ("text", "conversation")
RESPONSES_KIND = "responses"
# Only variables named like an API key may be read: a manager names the variable and the URL it
# is sent to, so any other name would let them ship the server's own secrets (the database URL,
# cloud credentials) to a server of their choosing.
API_KEY_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,119}_API_KEY$")


class GenerationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = Field(
        None,
        description="The OpenAI-compatible server (vLLM, llama.cpp, TGI, Ollama): http(s)://host:port "
        "or with /v1; requests go to <base>/v1/chat/completions. None: generation is off.",
    )
    model: str | None = Field(None, min_length=1, max_length=200,
                              description="The model the server is asked for.")
    temperature: float = Field(1.0, ge=0.0, le=2.0, description="Sampling temperature.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_tokens: int = Field(1024, ge=1, le=1_000_000, description="Most tokens per candidate.")
    system_prompt: str | None = Field(
        None, max_length=100_000,
        description="Sent first as a system message (unless the conversation starts with one).",
    )
    candidates: int = Field(
        4, ge=1, le=MAX_CANDIDATES, description="K: each item's responses are filled up to this many."
    )
    prompt_field: str | None = Field(
        None, description="The text or conversation field asked (default: the schema's first one)."
    )
    responses_field: str | None = Field(
        None, description="The responses field filled (default: the schema's first one)."
    )
    requests_per_second: float | None = Field(
        None, gt=0.0, le=10_000.0,
        description="Rate limit over all concurrent requests, retries included (None: none).",
    )
    concurrency: int = Field(4, ge=1, le=64, description="Requests in flight at once.")
    timeout_s: float = Field(120.0, ge=0.1, le=3600.0, description="Seconds one request may take.")
    max_retries: int = Field(
        3, ge=0, le=10, description="Retries of a request after a 429, a 5xx, a timeout or no connection."
    )
    backoff_s: float = Field(
        1.0, ge=0.0, le=60.0,
        description="First retry's delay, doubled on each retry (with jitter; a Retry-After wins).",
    )
    api_key_env: str | None = Field(
        None,
        description="Name of the server's environment variable holding the API key, sent as "
        "'Authorization: Bearer'; it must end in _API_KEY. The key itself is never stored.",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip().rstrip("/")
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("no credentials in the URL: name an environment variable in api_key_env")
        if parts.query or parts.fragment:
            raise ValueError("no query or fragment: the server's base URL only")
        if len(v) > 2000:
            raise ValueError("at most 2000 characters")
        return v

    @field_validator("api_key_env")
    @classmethod
    def _api_key_env(cls, v: str | None) -> str | None:
        if v is not None and (not API_KEY_ENV.match(v) or v.upper().startswith("LABELLOOP_")):
            raise ValueError("the name of an environment variable ending in _API_KEY (letters, digits, "
                             "underscores; not one of labelloop's own LABELLOOP_ settings)")
        return v

    @property
    def completions_url(self) -> str | None:
        """The chat completions URL: `<base>/v1/chat/completions`, `/v1` said once."""
        if self.base_url is None:
            return None
        base = self.base_url if self.base_url.endswith("/v1") else self.base_url + "/v1"
        return base + "/chat/completions"

    @property
    def parameters(self) -> dict[str, Any]:
        """The sampling parameters, as each candidate's `meta` records them."""
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens,
                "system_prompt": self.system_prompt}


def generation_settings(document: dict[str, Any] | None) -> GenerationSettings:
    """The settings of a stored document (parsed once per distinct document)."""
    return _parsed(orjson.dumps(document or {}, option=orjson.OPT_SORT_KEYS))


@lru_cache(maxsize=512)
def _parsed(document: bytes) -> GenerationSettings:
    return GenerationSettings.model_validate(orjson.loads(document))


def check_generation_settings(document: dict[str, Any], schema: LabelSchema) -> GenerationSettings:
    """Validated settings, or Invalid naming each wrong key as `generation.<key>`."""
    try:
        settings = GenerationSettings.model_validate(document)
    except ValidationError as e:
        raise Invalid("invalid generation settings", [
            Problem(err["msg"], field="generation." + ".".join(str(p) for p in err["loc"]))
            for err in e.errors()
        ]) from None
    problems = _field_problems(settings, schema)
    if problems:
        raise Invalid("invalid generation settings", problems)
    return settings


def fields_of(settings: GenerationSettings, schema: LabelSchema) -> tuple[str, str, str]:
    """(prompt field, its kind, responses field), or Invalid naming the setting to fix."""
    problems = _field_problems(settings, schema)
    if problems:
        raise Invalid("invalid generation settings", problems)
    prompt = _prompt_field(settings, schema)
    responses = _responses_field(settings, schema)
    assert prompt is not None and responses is not None  # else a problem was raised
    kind = next(f.type for f in schema.fields if f.name == prompt)
    return prompt, kind, responses


def _prompt_field(settings: GenerationSettings, schema: LabelSchema) -> str | None:
    if settings.prompt_field is not None:
        return settings.prompt_field
    return next((f.name for f in schema.fields if f.type in PROMPT_KINDS), None)


def _responses_field(settings: GenerationSettings, schema: LabelSchema) -> str | None:
    if settings.responses_field is not None:
        return settings.responses_field
    return next((f.name for f in schema.fields if f.type == RESPONSES_KIND), None)


def _field_problems(settings: GenerationSettings, schema: LabelSchema) -> list[Problem]:
    kinds: dict[str, str] = {f.name: f.type for f in schema.fields}
    problems: list[Problem] = []
    prompt = _prompt_field(settings, schema)
    if prompt is None:
        problems.append(Problem("the schema has no text or conversation field to ask the model",
                                field="generation.prompt_field"))
    elif kinds.get(prompt) not in PROMPT_KINDS:
        problems.append(Problem(f"{prompt!r} is not a text or conversation field of the schema "
                                f"(fields: {', '.join(kinds)})", field="generation.prompt_field"))
    responses = _responses_field(settings, schema)
    if responses is None:
        problems.append(Problem("the schema has no responses field to fill",
                                field="generation.responses_field"))
    elif responses == prompt:
        problems.append(Problem("must differ from the prompt field", field="generation.responses_field"))
    elif kinds.get(responses) != RESPONSES_KIND:
        problems.append(Problem(f"{responses!r} is not a responses field of the schema",
                                field="generation.responses_field"))
    return problems


def ready(settings: GenerationSettings) -> None:
    """Invalid unless a job can ask a server: a URL and a model."""
    problems = []
    if settings.base_url is None:
        problems.append(Problem("set the model server's URL", field="generation.base_url"))
    if settings.model is None:
        problems.append(Problem("set the model to ask for", field="generation.model"))
    if problems:
        raise Invalid("generation is not set up", problems)


def api_key(settings: GenerationSettings, environ: Mapping[str, str] | None = None) -> str | None:
    """The key from the named environment variable; Invalid when it is named but not set."""
    if settings.api_key_env is None:
        return None
    value = (os.environ if environ is None else environ).get(settings.api_key_env, "").strip()
    if not value:
        raise Invalid("no API key", [Problem(
            f"the environment variable {settings.api_key_env} is not set in the server's environment",
            field="generation.api_key_env")])
    return value


def get_generation(conn: Connection, actor: Actor, project_id: int) -> GenerationSettings:
    acc = access(conn, actor, project_id, Action.generate)
    return generation_settings(acc.project.generation_settings)


def update_generation(
    conn: Connection, actor: Actor, project_id: int, changes: dict[str, Any]
) -> GenerationSettings:
    """Change the settings; keys not given keep their values, a null resets one to its default."""
    acc = access(conn, actor, project_id, Action.generate)
    current = generation_settings(acc.project.generation_settings).model_dump(exclude_defaults=True)
    merged = {k: v for k, v in {**current, **changes}.items() if v is not None}
    settings = check_generation_settings(merged, schema_of(acc.project.label_schema))
    conn.execute(update(projects).where(projects.c.id == project_id).values(
        generation_settings=settings.model_dump(exclude_defaults=True)))
    audit.record(conn, actor, "generation.settings", project_id=project_id, object_type="project",
                 object_id=project_id, details={"sent": changes})
    return settings
