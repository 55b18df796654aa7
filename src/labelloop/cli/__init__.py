"""The `labelloop` command: thin wrappers over service functions."""
