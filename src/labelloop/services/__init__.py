"""Use cases. Each function takes a database connection (inside a transaction) and plain values,
checks permissions through `policy`, and raises domain errors; no HTTP types here."""
