"""Choosing among options: choice, multi-choice, rating."""
