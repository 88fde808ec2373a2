"""Recording acts in the audit log and reading it back (admins only)."""

from __future__ import annotations

from typing import Any, Final

from chat.clock import Clock
from chat.errors import Forbidden
from chat.models import AuditEntry, User
from chat.store.port import Store

# The actions recorded so far (docs/operations.md, "Compliance exports and the audit log").
EXPORT_COMPLIANCE: Final = "export.compliance"
EXPORT_PERSONAL: Final = "export.personal"
# The label of an act done at the command line (no member behind it).
OPERATOR: Final = "operator (command line)"
PAGE_MAX = 200
PAGE_DEFAULT = 50


def actor_label(actor: User | None) -> str:
    """How the log names who acted: a member's display name, or the operator."""
    return OPERATOR if actor is None else actor.display_name


class AuditLog:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def record(self, actor: User | None, action: str, detail: dict[str, Any]) -> AuditEntry:
        """Write an entry now; it is durable when this returns (callers record before they
        act, so an act is never left unrecorded). `detail` holds no email or message body."""
        return await self._store.add_audit(self._clock.now_ms(), None if actor is None else actor.user_id,
                                           actor_label(actor), action, detail)

    @staticmethod
    def check_reader(actor: User | None) -> None:
        """Only admins (and the operator, None) read the log: Forbidden otherwise."""
        if actor is not None and actor.role != "admin":
            raise Forbidden("only admins can read the audit log")

    async def entries(self, actor: User | None, before: int | None, limit: int) -> tuple[list[AuditEntry], int | None]:
        """A page of the log, newest first, below the id `before` (None: the newest), and the
        cursor of the next page (None on the last)."""
        self.check_reader(actor)
        entries = await self._store.audit_entries(before if before is not None else 2**62, limit + 1)
        more = len(entries) > limit
        entries = entries[:limit]
        return entries, entries[-1].audit_id if more and entries else None
