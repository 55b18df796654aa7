"""Checking a label schema without creating anything (for editors and CI of schema files)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.schema import parse_schema
from labelloop.services.policy import Actor

router = APIRouter(prefix="/api", tags=["projects"], route_class=JSONRoute)


class SchemaIn(BaseModel):
    label_schema: dict[str, Any] | str = Field(description="The schema, as an object or as YAML/JSON text.")


class SchemaOut(BaseModel):
    label_schema: dict[str, Any] = Field(description="The normalised document, as a project would store it.")


@router.post("/schemas/check", response_model=SchemaOut, responses=documented(401, 403, 422))
def check_schema(body: SchemaIn, ctx: Ctx = CtxDep) -> SchemaOut:
    """The normalised schema, or 422 with a problem for each offending path (any signed-in user)."""

    def check(_conn: Any, _actor: Actor) -> dict[str, Any]:
        return parse_schema(body.label_schema).document

    return SchemaOut(label_schema=ctx.read(check))
