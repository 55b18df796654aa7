"""Persistence: the relational model, migrations, and database access."""
