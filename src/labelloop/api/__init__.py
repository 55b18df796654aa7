"""The HTTP API (FastAPI): parse, authenticate, call one service, render."""
