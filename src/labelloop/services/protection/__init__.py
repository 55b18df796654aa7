"""Data protection: encryption at rest, retention of raw content, erasure (docs/data-protection.md)."""
