"""The tamper-evident audit log (docs/audit.md).

Services call `record(conn, actor, action, ...)` in the transaction of the action they record;
`verify` recomputes the chain; `log` lists and exports entries for admins and managers.
"""

from labelloop.services.audit.chain import GENESIS, Recorded, enabled, record

__all__ = ["GENESIS", "Recorded", "enabled", "record"]
