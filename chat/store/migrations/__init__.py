"""Versioned schema migrations: NNNN_name.sql files, shared by both dialects where they can be.

A version is a file stem (`0009_room_archive`). Its SQL is the shared file
`shared/NNNN_name.sql` (written in the SQL both dialects read, like the store's statements;
chat/store/dialect.py lists what that is) followed by the dialect's own `sqlite/NNNN_name.sql`
or `postgres/NNNN_name.sql`, holding only what cannot be shared. Either part may be missing;
versions up to 0008 have per-dialect files only. docs/decisions.md ("Migrations") states the
rule.

Each backend applies the versions it has not applied yet, in order, each in its own transaction,
under a lock that makes concurrent starts of several nodes apply each version exactly once
(PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE). Applied versions are rows of
schema_migrations. Never edit a released file: add a new one.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

SCHEMA_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version TEXT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)"
)
SHARED = "shared"


def load(dialect: str, root: Traversable | None = None) -> list[tuple[str, str]]:
    """(version, sql) pairs for a dialect, in version order: each version's shared part, then
    its dialect part. `root` holds the folders (default: this package)."""
    root = root if root is not None else resources.files(__package__)
    parts: dict[str, list[str]] = {}
    for folder in (SHARED, dialect):
        for version, sql in _files(root.joinpath(folder)):
            parts.setdefault(version, []).append(sql)
    numbers: dict[str, str] = {}
    for version in parts:
        number = version.split("_", 1)[0]
        if numbers.setdefault(number, version) != version:
            raise ValueError(f"migration {number} has two names ({numbers[number]}, {version}):"
                             " a shared file and a dialect file of one version share the stem")
    return [(version, _joined(parts[version])) for version in sorted(parts)]


def _files(folder: Traversable) -> list[tuple[str, str]]:
    if not folder.is_dir():
        return []
    return sorted((entry.name.removesuffix(".sql"), entry.read_text("utf-8"))
                  for entry in folder.iterdir() if entry.name.endswith(".sql"))


def _joined(parts: list[str]) -> str:
    """The parts of one version as one script; each part but the last ends its last statement,
    so the next part cannot run into it."""
    return "\n".join([part if part.rstrip().endswith(";") else part.rstrip() + "\n;"
                       for part in parts[:-1]] + parts[-1:])
