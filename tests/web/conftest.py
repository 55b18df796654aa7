"""Web tests reuse the platform fixtures (a migrated database, a runtime, an API client, a world)."""

from tests.platform.conftest import client, database_url, runtime, settings, template_db, world

__all__ = ["client", "database_url", "runtime", "settings", "template_db", "world"]
