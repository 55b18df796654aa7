"""Aggregators for categorical answers (one label per task), and the per-item posteriors
and decisions built on them."""
