"""Exports for training language models (docs/feedback.md, "Exports for training"): DPO pairs,
SFT conversations, ratings tables, and all of them as a Hugging Face dataset with its card.

`feedback_plan` checks the format against the schema and aggregates (plan.py); `stream_feedback`
writes the rows with the items' text (stream.py).
"""

from labelloop.services.exporting.feedback.plan import FORMATS, FeedbackPlan, feedback_plan
from labelloop.services.exporting.feedback.stream import stream_feedback

__all__ = ["FORMATS", "FeedbackPlan", "feedback_plan", "stream_feedback"]
