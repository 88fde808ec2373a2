"""Backups of the store, for `ecolink backup` / `ecolink restore` (docs/operations.md, "Backups").

PostgreSQL goes through its own tools: `pg_dump -Fc` (one consistent snapshot, taken while
nodes keep writing) and `pg_restore` (in one transaction, so a failed restore leaves the target
as it was). SQLite goes through its online backup API, in one step: the copy is one read
transaction, so in WAL mode it is a consistent snapshot and the server's writers never wait.

What is covered: the database, i.e. every message, account, room, file's metadata and the search
index. Not covered: the files' bytes (ECOLINK_FILES_DIR or the S3 bucket), which the operator
copies with their own tools right after the backup (objects are immutable once written, so a
copy taken after the database holds every file the database names).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

PG_MAGIC = b"PGDMP"  # pg_dump's custom format
SQLITE_MAGIC = b"SQLite format 3\x00"
# A table every EcoLink database has, from its first migration: a backup without it is not ours.
MARKER_TABLE = "messages"


class BackupError(Exception):
    """A refused or failed backup or restore, with a message fit for the operator (it never
    holds the database URL's password or any stored data)."""


@dataclass(frozen=True)
class Outcome:
    path: Path
    size: int  # bytes of the backup file
    seconds: float


# -- finding PostgreSQL's tools -------------------------------------------------------------------


def _version_key(directory: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,): the newest major version wins, since pg_dump must be
    # at least as new as the server it dumps.
    return tuple(int(p) for p in re.findall(r"\d+", Path(directory).parent.name))


def pg_tool(name: str, bindir: Path | None) -> str:
    """The path of `pg_dump` or `pg_restore`: in `bindir` when given (ECOLINK_PG_BINDIR or
    --pg-bindir), else the newest /usr/lib/postgresql/*/bin, else PATH."""
    if bindir is not None:
        candidate = bindir / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
        raise BackupError(f"{name} not found in the folder given by --pg-bindir / ECOLINK_PG_BINDIR ({bindir})")
    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        candidate = Path(directory) / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(f"{name} not found: install PostgreSQL's client tools (apt-get install "
                      "postgresql-client, as new as the server) or name their folder with "
                      "--pg-bindir / ECOLINK_PG_BINDIR")


def _libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that carries the password: a password
    on a command line is readable by every user of the machine (ps). libpq takes one in the
    user info (`u:pw@host`) or as a `password=` query parameter (which wins, as in libpq): both
    go to PGPASSWORD."""
    parts = urlsplit(url)
    env = dict(os.environ)
    password = unquote(parts.password) if parts.password is not None else None
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        user = parts.username or ""
        netloc = f"{user}@{host}" if user else host
        if parts.port is not None:
            netloc += f":{parts.port}"
    # The other parameters are kept as written (re-encoding could change what libpq reads).
    kept = []
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        if unquote(key) == "password":
            password = unquote(value)
        else:
            kept.append(pair)
    if password is not None:
        env["PGPASSWORD"] = password
        url = urlunsplit((parts.scheme, netloc, parts.path, "&".join(kept), parts.fragment))
    return url, env


def _read_only(path: Path) -> str:
    """An SQLite URI opening `path` read-only, the path quoted (a `?`, `#` or `%` in a folder's
    name would otherwise be read as the URI's query, fragment or an escape)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    try:
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    except OSError as exc:
        raise BackupError(f"cannot run {Path(command[0]).name}: {exc.strerror or type(exc).__name__}") from None
    if done.returncode != 0:
        # pg_dump's and pg_restore's messages name hosts, users and objects, never passwords.
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BackupError(f"{what} failed (exit {done.returncode}): " + " | ".join(lines[-4:]))
    return done.stdout


# -- backup --------------------------------------------------------------------------------------


def _prepare_output(output: Path, force: bool) -> Path:
    """The temporary path written before the rename that makes `output` appear complete."""
    if output.exists() and not force:
        raise BackupError(f"{output} exists: choose another file or pass --force to replace it")
    if output.exists() and not output.is_file():
        raise BackupError(f"{output} is not a file")
    if not output.parent.is_dir():
        raise BackupError(f"the folder {output.parent} does not exist")
    return output.with_name(f".{output.name}.partial")


def backup_postgres(url: str, output: Path, *, bindir: Path | None = None, force: bool = False) -> Outcome:
    tool = pg_tool("pg_dump", bindir)
    partial = _prepare_output(output, force)
    target, env = _libpq_target(url)
    started = time.monotonic()
    try:
        # --no-owner/--no-privileges: the dump restores as whichever role runs the restore.
        _run([tool, "--format=custom", "--no-owner", "--no-privileges", "--file", str(partial),
              "--dbname", target], env, "pg_dump")
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(output, output.stat().st_size, time.monotonic() - started)


def backup_sqlite(database: Path, output: Path, *, force: bool = False) -> Outcome:
    if not database.is_file():
        raise BackupError(f"there is no database at {database} (ECOLINK_DATA_DIR)")
    partial = _prepare_output(output, force)
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        source = sqlite3.connect(_read_only(database), uri=True, timeout=30)
        copy = sqlite3.connect(partial)
        try:
            # pages=-1: the whole database in one step, one read transaction: a consistent
            # snapshot that, in WAL mode, never blocks the server's writers.
            source.backup(copy, pages=-1)
            # The backup is one self-contained file (no -wal beside it); the server turns WAL
            # back on when it opens the restored database.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
            source.close()
        _check_sqlite(partial)
        os.replace(partial, output)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(output, output.stat().st_size, time.monotonic() - started)


# -- restore -------------------------------------------------------------------------------------


def backup_kind(path: Path) -> str:
    """'postgres' or 'sqlite', from the file's first bytes; BackupError for anything else."""
    if not path.is_file():
        raise BackupError(f"there is no backup file at {path}")
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(PG_MAGIC):
        return "postgres"
    if head == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path} is not a backup made by `ecolink backup` (neither a pg_dump "
                      "custom-format archive nor an SQLite database)")


def _check_sqlite(path: Path) -> None:
    connection = sqlite3.connect(_read_only(path), uri=True)
    try:
        ok = connection.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(f"{path} is damaged (SQLite quick_check: {ok})")
        if not _sqlite_has_table(connection, MARKER_TABLE):
            raise BackupError(f"{path} is an SQLite database but not an EcoLink one")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    finally:
        connection.close()


def _sqlite_has_table(connection: sqlite3.Connection, name: str | None = None) -> bool:
    query = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    row = (connection.execute(query + " AND name = ?", (name,)) if name
           else connection.execute(query)).fetchone()
    return bool(row[0])


def restore_sqlite(backup: Path, database: Path, *, force: bool = False) -> Outcome:
    """Copy `backup` into `database`. With `force` an existing database is overwritten in
    place (one SQLite write transaction, not an atomic swap of files, and nothing checks that
    the nodes are stopped: docs/operations.md, "Backups")."""
    if backup_kind(backup) != "sqlite":
        raise BackupError("this is a PostgreSQL backup, but ECOLINK_DATABASE_URL is unset (the "
                          "target is the embedded SQLite database): set it to restore into PostgreSQL")
    _check_sqlite(backup)
    if not database.parent.is_dir():
        raise BackupError(f"the data folder {database.parent} does not exist")
    started = time.monotonic()
    try:
        if database.exists() and not force:
            probe = sqlite3.connect(_read_only(database), uri=True)
            try:
                if _sqlite_has_table(probe):
                    raise BackupError(f"the target database {database} is not empty: stop the nodes "
                                      "and pass --force to replace it")
            finally:
                probe.close()
        source = sqlite3.connect(_read_only(backup), uri=True)
        target = sqlite3.connect(database, timeout=5)
        try:
            # Through the backup API rather than a file copy: it goes through the target's own
            # journal, so a stale -wal beside it cannot be replayed over the restored pages.
            source.backup(target, pages=-1)
        finally:
            target.close()
            source.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite restore failed: {exc}") from None
    return Outcome(database, database.stat().st_size, time.monotonic() - started)


def restore_postgres(backup: Path, url: str, *, bindir: Path | None = None, force: bool = False) -> Outcome:
    if backup_kind(backup) != "postgres":
        raise BackupError("this is an SQLite backup, but ECOLINK_DATABASE_URL names PostgreSQL: "
                          "unset it to restore into the embedded database")
    tool = pg_tool("pg_restore", bindir)
    target, env = _libpq_target(url)
    # The archive's table of contents: proves it is readable, and that it is EcoLink's.
    listing = _run([tool, "--list", str(backup)], env, "pg_restore --list")
    if not re.search(rf"\bTABLE public {MARKER_TABLE}\b", listing):
        raise BackupError(f"{backup} is a pg_dump archive but not of an EcoLink database")
    if not force and _pg_has_tables(bindir, target, env):
        raise BackupError("the target database is not empty: stop the nodes and pass --force to "
                          "replace what it holds, or restore into a new database (createdb)")
    started = time.monotonic()
    command = [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               "--dbname", target]
    if force:
        command += ["--clean", "--if-exists"]
    _run(command + [str(backup)], env, "pg_restore")
    return Outcome(backup, backup.stat().st_size, time.monotonic() - started)


def _pg_has_tables(bindir: Path | None, target: str, env: dict[str, str]) -> bool:
    """Whether the target database holds any table outside the system schemas (psql, from the
    same client tools as pg_restore)."""
    psql = pg_tool("psql", bindir)
    out = _run([psql, "--no-psqlrc", "--tuples-only", "--no-align", "--dbname", target, "--command",
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN "
                "('pg_catalog', 'information_schema')"], env, "checking the target database")
    return int(out.strip() or 0) > 0
