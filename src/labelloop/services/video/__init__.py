"""Video items: probe, frame table, poster and proxy of a stored video (docs/video.md)."""
