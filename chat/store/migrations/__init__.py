"""Versioned schema migrations, one folder of NNNN_name.sql files per dialect.

Each backend applies the files it has not applied yet, in order, each in its own transaction,
under a lock that makes concurrent starts of several nodes apply each version exactly once
(PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE). Applied versions are rows of
schema_migrations. Never edit a released file: add a new one.
"""

from __future__ import annotations

from importlib import resources

SCHEMA_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version TEXT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)"
)


def load(dialect: str) -> list[tuple[str, str]]:
    """(version, sql) pairs for a dialect, in version order. The version is the file stem."""
    folder = resources.files(__package__).joinpath(dialect)
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return [(entry.name.removesuffix(".sql"), entry.read_text("utf-8")) for entry in files]
