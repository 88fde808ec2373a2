"""How the migration runner reads its folders (chat/store/migrations/__init__.py): a version's
shared file, then its dialect's file; per-dialect-only versions as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.store import migrations


def write(root: Path, folder: str, name: str, sql: str) -> None:
    (root / folder).mkdir(parents=True, exist_ok=True)
    (root / folder / name).write_text(sql, "utf-8")


def test_a_version_is_its_shared_part_then_its_dialect_part(tmp_path: Path):
    write(tmp_path, "sqlite", "0001_core.sql", "CREATE TABLE a (x INTEGER);")
    write(tmp_path, "postgres", "0001_core.sql", "CREATE TABLE a (x BIGINT);")
    write(tmp_path, "shared", "0009_both.sql", "CREATE TABLE b (y TEXT)")  # no final ';'
    write(tmp_path, "postgres", "0009_both.sql", "CREATE INDEX b_y ON b (y COLLATE \"C\");")
    write(tmp_path, "shared", "notes.txt", "not a migration")
    assert migrations.load("sqlite", tmp_path) == [
        ("0001_core", "CREATE TABLE a (x INTEGER);"),
        ("0009_both", "CREATE TABLE b (y TEXT)"),
    ]
    assert migrations.load("postgres", tmp_path) == [
        ("0001_core", "CREATE TABLE a (x BIGINT);"),
        ("0009_both", "CREATE TABLE b (y TEXT)\n;\nCREATE INDEX b_y ON b (y COLLATE \"C\");"),
    ]


def test_a_number_with_two_names_is_refused(tmp_path: Path):
    write(tmp_path, "shared", "0009_one.sql", "SELECT 1;")
    write(tmp_path, "sqlite", "0009_other.sql", "SELECT 2;")
    with pytest.raises(ValueError, match="0009 has two names"):
        migrations.load("sqlite", tmp_path)
    assert [v for v, _ in migrations.load("postgres", tmp_path)] == ["0009_one"]


def test_the_released_versions_are_unchanged():
    """Versions 0001-0008 keep their per-dialect files, read exactly as before."""
    package = Path(migrations.__file__).parent
    for dialect in ("sqlite", "postgres"):
        # Later versions may have a dialect part too (what cannot be shared, e.g. 0017's
        # identity column); those are read after their shared part, tested above.
        released = sorted(p for p in package.joinpath(dialect).glob("*.sql") if p.stem[:4] <= "0008")
        assert [(path.stem, path.read_text("utf-8")) for path in released] == [
            (version, sql) for version, sql in migrations.load(dialect) if version[:4] <= "0008"]


def test_sqlite_runs_a_trigger_with_its_body_as_one_statement():
    from chat.store.sqlite.base import _statements

    sql = ("CREATE TABLE t (x TEXT);\n-- a comment; with a semicolon\n"
           "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN\n    INSERT INTO u VALUES (new.x);\n"
           "    DELETE FROM v;\nEND;\nCREATE INDEX t_x ON t (x);")
    assert _statements(sql) == [
        "CREATE TABLE t (x TEXT)",
        "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN\n    INSERT INTO u VALUES (new.x);\n"
        "    DELETE FROM v;\nEND",
        "CREATE INDEX t_x ON t (x)",
    ]
    with pytest.raises(ValueError, match="END"):
        _statements("CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1);")
