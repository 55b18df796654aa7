"""Curation: duplicates, slices and versioned dataset releases (docs/architecture.md)."""
