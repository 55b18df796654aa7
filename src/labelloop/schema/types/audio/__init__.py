"""Segments of an audio file, with their transcripts."""
