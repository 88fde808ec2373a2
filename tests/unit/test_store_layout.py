"""The store's one pattern, checked on the source (docs/decisions.md, "Where the stores differ"):
shared operations are written once over the database handle, and a backend folder holds only
its handle, its base and the two append steps kept per backend on purpose.

A grep-level check: it catches how a second pattern would come back (a backend module per
area, a driver or `Any`-typed primitive in shared code, a test of which backend runs)."""

from __future__ import annotations

import re
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "chat" / "store"
BACKENDS = ("sqlite", "postgres")
# What may live per backend, and why: the handle and the base (opening, migrations) are the
# backend; history.py holds the append steps whose fast statements differ.
BACKEND_MODULES = {"__init__.py", "base.py", "database.py", "history.py"}


def shared_modules() -> list[Path]:
    return sorted(STORE.glob("*.py"))


def test_backend_folders_hold_only_the_backend_and_the_per_backend_append_steps():
    for backend in BACKENDS:
        assert {path.name for path in (STORE / backend).glob("*.py")} == BACKEND_MODULES, backend


def test_shared_modules_import_no_driver_and_ask_no_backend_name():
    for path in shared_modules():
        source = path.read_text("utf-8")
        assert not re.search(r"^\s*(?:import|from)\s+(?:asyncpg|aiosqlite|sqlite3)\b", source, re.M), path
        assert not re.search(r"dialect\.name\b|dialect\s*==|\bisinstance\([^)]*Store\b", source), path
        # The old untyped primitives (one fetch/execute/transaction per base) are gone.
        assert not re.search(r"\b_q_(?:fetch|execute|transaction)\b|:\s*Any\s*$", source, re.M), path


def test_store_modules_mixed_into_each_backend_are_the_same():
    mixins = {}
    for backend in BACKENDS:
        source = (STORE / backend / "__init__.py").read_text("utf-8")
        mixins[backend] = sorted(re.findall(r"^from chat\.store\.(\w+) import (\w+)$", source, re.M))
    assert mixins["sqlite"] == mixins["postgres"]
