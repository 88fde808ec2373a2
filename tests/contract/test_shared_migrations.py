"""A shared migration file (chat/store/migrations/shared/) with a dialect-only part applies on
SQLite and PostgreSQL alike, once, as one version (docs/decisions.md, "Migrations")."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.store.database import UniqueViolation

SHARED = """
-- A shared part: the SQL both dialects read.
CREATE TABLE probe_items (
    item_id TEXT PRIMARY KEY,
    label TEXT NOT NULL
);
INSERT INTO probe_items (item_id, label) VALUES ('seed', 'Seed')
"""
# The dialect parts: a unique index on the folded label, spelled each dialect's way.
DIALECT = {
    "sqlite": "CREATE UNIQUE INDEX probe_items_label ON probe_items (label COLLATE NOCASE);",
    "postgres": "CREATE UNIQUE INDEX probe_items_label ON probe_items (lower(label));",
}


def folders(root: Path, dialect: str) -> Path:
    for folder, text in (("shared", SHARED), (dialect, DIALECT[dialect])):
        (root / folder).mkdir(parents=True)
        (root / folder / "9001_probe.sql").write_text(text, "utf-8")
    return root


async def test_a_shared_migration_and_its_dialect_part_apply_once(store, tmp_path: Path):
    source = folders(tmp_path, store.dialect)
    assert await store.migrate(source) == ["9001_probe"]
    assert await store.migrate(source) == []
    db = store._db
    assert [tuple(row) for row in await db.fetch("SELECT item_id, label FROM probe_items")] == [
        ("seed", "Seed")]
    # The dialect part ran too: its index refuses a label that differs only in case.
    with pytest.raises(UniqueViolation):
        await db.execute("INSERT INTO probe_items (item_id, label) VALUES (?, ?)", "other", "SEED")
    row = await db.fetch_one("SELECT count(*) FROM schema_migrations WHERE version = ?", "9001_probe")
    assert row[0] == 1


async def test_a_failing_dialect_part_leaves_nothing_of_the_shared_part(store, tmp_path: Path):
    source = folders(tmp_path, store.dialect)
    (source / store.dialect / "9001_probe.sql").write_text("CREATE INDEX broken ON no_such_table (x);")
    with pytest.raises(Exception):  # noqa: B017 - each driver raises its own error
        await store.migrate(source)
    recorded = await store._db.fetch_one(
        "SELECT count(*) FROM schema_migrations WHERE version = ?", "9001_probe")
    assert recorded[0] == 0
    # The shared part's table went with the failed transaction, so the fixed file applies.
    assert await store.migrate(folders(tmp_path / "fixed", store.dialect)) == ["9001_probe"]
