"""Candidate responses from the team's own model server (docs/feedback.md, "Generation")."""
