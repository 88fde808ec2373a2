"""The audit log: one generic table of acts admins may read back (migration 0017; the service
is chat/audit/). One implementation for both stores over the database handle."""

from __future__ import annotations

import json
from typing import Any

from chat.models import AuditEntry
from chat.store.database import Database, Row
from chat.store.rows import data_text

COLUMNS = "audit_id, at_ms, actor_id, actor_label, action, detail"
INSERT = (
    "INSERT INTO audit_log (at_ms, actor_id, actor_label, action, detail) VALUES (?, ?, ?, ?, ?)"
    f" RETURNING {COLUMNS}"
)
# Newest first by id (keyset paging: the next page is the ids below the last one shown).
PAGE = f"SELECT {COLUMNS} FROM audit_log WHERE audit_id < ? ORDER BY audit_id DESC LIMIT ?"


def entry_from_row(row: Row) -> AuditEntry:
    detail: Any = json.loads(row[5])
    return AuditEntry(row[0], row[1], row[2], row[3], row[4], detail if isinstance(detail, dict) else {})


class AuditMixin:
    """Mixed into each store after its base (tests/contract/test_audit_store.py)."""

    _db: Database

    async def add_audit(self, at_ms: int, actor_id: int | None, actor_label: str, action: str,
                        detail: dict[str, Any]) -> AuditEntry:
        async with self._db.transaction() as conn:
            row = await conn.fetch_one(INSERT, at_ms, actor_id, actor_label, action, data_text(detail))
        assert row is not None  # RETURNING of an INSERT yields its row
        return entry_from_row(row)

    async def audit_entries(self, before_id: int, limit: int) -> list[AuditEntry]:
        return [entry_from_row(row) for row in await self._db.fetch(PAGE, before_id, limit)]
