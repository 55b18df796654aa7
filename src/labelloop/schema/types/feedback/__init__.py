"""Feedback on a language model's responses: preference, ranking, criteria, rewrite, response spans."""
