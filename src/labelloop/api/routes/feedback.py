"""Language-model feedback, read side: the leaderboard of the models that generated the candidates."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.params import Id
from labelloop.services.quality.leaderboard import leaderboard as model_board

router = APIRouter(
    prefix="/api/projects/{project_id:id}/feedback", tags=["feedback"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)


class ModelScore(BaseModel):
    model: str = Field(description="The candidates' `model` (\"unknown\" for candidates without one).")
    score: float | None = Field(
        description="Bradley-Terry strength (log-odds scale), annotators' reliability given.")
    low: float | None = Field(description="Lower end of the bootstrap interval.")
    high: float | None = Field(description="Upper end of the bootstrap interval.")
    comparisons: int = Field(description="Battles with another model's response the model took part in.")
    win_rate: float | None = Field(description="(wins + ties / 2) / comparisons.")


class LeaderboardOut(BaseModel):
    question: str
    confidence: float = Field(description="Of the intervals (0.95).")
    resamples: int = Field(description="Bootstrap resamples of whole prompts.")
    comparisons: int = Field(description="Preference answers counted (each annotator's latest per item).")
    battles: int = Field(description="Of those, comparisons of two different models' responses.")
    annotators: int = Field(description="Annotators whose answers are battles.")
    models: list[ModelScore] = Field(description="Best first; empty until two models have met.")


@router.get("/leaderboard", response_model=LeaderboardOut)
def leaderboard(
    project_id: Id,
    question: str | None = Query(None, min_length=1, max_length=200,
                                 description="A preference question (default: the schema's only one)."),
    ctx: Ctx = CtxDep,
) -> LeaderboardOut:
    """The arena view (reviewers and up): each generating model's strength with its 95% bootstrap
    interval, battles and win rate, from every preference answer with annotator reliability."""
    return LeaderboardOut.model_validate(ctx.read(model_board, project_id, question))
