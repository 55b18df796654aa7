"""Quality algorithms (temporary init during development)."""
