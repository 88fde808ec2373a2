"""SqliteStore: the embedded default, one SQLite file in WAL mode through aiosqlite.

Single node only: the in-process broker cannot tell other processes about new messages, and
SQLite serialises writers anyway. One writer connection (behind an asyncio lock, since a
transaction spans awaits) and one reader connection, which WAL lets read during a write.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiosqlite

from chat.errors import EmailTaken, Unavailable
from chat.models import Message, Role, Room, SendOutcome, SendRequest, User
from chat.store import migrations
from chat.store.batch import group_by_room, plan_room
from chat.store.catalog import SEED_ROOMS

MESSAGE_COLUMNS = (
    "m.room_id, m.seq, m.message_id, m.author_id, u.display_name, m.cid, m.body, m.sent_at_ms"
)
USER_COLUMNS = "user_id, email, display_name, role, created_at_ms"

# synchronous=FULL: in WAL mode NORMAL may lose the last commits on power loss, and an ack
# must mean durable (invariant 1; https://www.sqlite.org/pragma.html#pragma_synchronous).
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


@contextlib.contextmanager
def _unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:  # disk full, locked past busy_timeout, I/O error
        raise Unavailable("the database is not available; retry") from exc


class SqliteStore:
    dialect = "sqlite"

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: Path) -> AsyncIterator[SqliteStore]:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        reader = await aiosqlite.connect(path, isolation_level=None)
        try:
            for conn in (writer, reader):
                for pragma in PRAGMAS:
                    await conn.execute(pragma)
            yield cls(writer, reader)
        finally:
            await reader.close()
            await writer.close()

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    async def ping(self) -> None:
        with _unavailable_on_error():
            await self._reader.execute_fetchall("SELECT 1")

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so reads inside see final state."""
        async with self._write_lock:
            with _unavailable_on_error():
                await self._writer.execute("BEGIN IMMEDIATE")
                try:
                    yield self._writer
                except BaseException:
                    await self._writer.execute("ROLLBACK")
                    raise
                await self._writer.execute("COMMIT")

    # -- migrations ------------------------------------------------------------------------

    async def migrate(self) -> list[str]:
        applied: list[str] = []
        async with self._transaction() as conn:
            await conn.execute(migrations.SCHEMA_TABLE_SQL)
            done = {r[0] for r in await conn.execute_fetchall("SELECT version FROM schema_migrations")}
            for version, sql in migrations.load(self.dialect):
                if version in done:
                    continue
                # executescript would COMMIT our transaction; run the statements one by one.
                for statement in _statements(sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at_ms)"
                    " VALUES (?, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
                    (version,),
                )
                applied.append(version)
            await conn.executemany(
                "INSERT INTO rooms (room_id, kind, title_en, title_zh) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (room_id) DO NOTHING",
                [(r.room_id, r.kind, r.title_en, r.title_zh) for r in SEED_ROOMS],
            )
        return applied

    # -- rooms and history -----------------------------------------------------------------

    async def list_rooms(self, kinds: tuple[str, ...]) -> list[Room]:
        marks = ",".join("?" * len(kinds))
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                "SELECT room_id, kind, title_en, title_zh, head_seq FROM rooms"
                f" WHERE kind IN ({marks}) ORDER BY kind DESC, room_id",
                kinds,
            )
        return [Room(*row) for row in rows]

    async def get_room(self, room_id: str) -> Room | None:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                "SELECT room_id, kind, title_en, title_zh, head_seq FROM rooms WHERE room_id = ?",
                (room_id,),
            )
        return Room(*rows[0]) if rows else None

    async def room_heads(self, room_ids: list[str]) -> dict[str, int]:
        if not room_ids:
            return {}
        marks = ",".join("?" * len(room_ids))
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT room_id, head_seq FROM rooms WHERE room_id IN ({marks})", room_ids
            )
        return {row[0]: row[1] for row in rows}

    async def append_batch(self, sends: list[SendRequest], now_ms: int) -> list[SendOutcome]:
        outcomes: list[SendOutcome | None] = [None] * len(sends)
        async with self._transaction() as conn:
            for room_id, indexed in group_by_room(sends).items():
                for index, outcome in (await self._append_room_txn(conn, room_id, indexed, now_ms)).items():
                    outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    async def _append_room_txn(
        self,
        conn: aiosqlite.Connection,
        room_id: str,
        indexed: list[tuple[int, SendRequest]],
        now_ms: int,
    ) -> dict[int, SendOutcome]:
        heads = await conn.execute_fetchall("SELECT head_seq FROM rooms WHERE room_id = ?", (room_id,))
        if not heads:
            return {index: SendOutcome(None, created=False) for index, _ in indexed}
        pairs = ",".join("(?, ?)" for _ in indexed)
        params: list[object] = [room_id]
        for _, send in indexed:
            params += [send.author_id, send.cid]
        rows = await conn.execute_fetchall(
            f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
            f" WHERE m.room_id = ? AND (m.author_id, m.cid) IN (VALUES {pairs})",
            params,
        )
        existing = {(row[3], row[5]): Message(*row) for row in rows}
        plan = plan_room(indexed, existing, heads[0][0], now_ms)
        if plan.new_messages:
            await conn.executemany(
                "INSERT INTO messages (room_id, seq, message_id, author_id, cid, body, sent_at_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(m.room_id, m.seq, m.message_id, m.author_id, m.cid, m.body, m.sent_at_ms)
                 for m in plan.new_messages],
            )
            await conn.execute(
                "UPDATE rooms SET head_seq = ? WHERE room_id = ?", (plan.head_seq, room_id)
            )
        return plan.outcomes

    async def messages_after(self, room_id: str, after_seq: int, limit: int) -> list[Message]:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
                " WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
                (room_id, after_seq, limit),
            )
        return [Message(*row) for row in rows]

    async def messages_before(self, room_id: str, before_seq: int, limit: int) -> list[Message]:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.user_id = m.author_id"
                " WHERE m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?",
                (room_id, before_seq, limit),
            )
        return [Message(*row) for row in reversed(rows)]

    # -- accounts --------------------------------------------------------------------------

    async def create_user(
        self, email: str, display_name: str, password_hash: str, role: Role, now_ms: int
    ) -> User:
        try:
            async with self._transaction() as conn:
                cursor = await conn.execute(
                    "INSERT INTO users (email, display_name, password_hash, role, created_at_ms)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (email, display_name, password_hash, role, now_ms),
                )
                user_id = cursor.lastrowid
        except sqlite3.IntegrityError as exc:
            raise EmailTaken("an account with this email exists") from exc
        return User(user_id, email, display_name, role, now_ms)

    async def user_credentials(self, email: str) -> tuple[User, str] | None:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?", (email,)
            )
        return (User(*rows[0][:5]), rows[0][5]) if rows else None

    async def set_role(self, user_id: int, role: Role) -> None:
        async with self._transaction() as conn:
            await conn.execute("UPDATE users SET role = ? WHERE user_id = ?", (role, user_id))

    async def create_session(self, token_hash: bytes, user_id: int, expires_ms: int) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO sessions (token_hash, user_id, expires_ms) VALUES (?, ?, ?)",
                (token_hash, user_id, expires_ms),
            )

    async def session_user(self, token_hash: bytes, now_ms: int) -> User | None:
        with _unavailable_on_error():
            rows = await self._reader.execute_fetchall(
                "SELECT u.user_id, u.email, u.display_name, u.role, u.created_at_ms"
                " FROM sessions s JOIN users u ON u.user_id = s.user_id"
                " WHERE s.token_hash = ? AND s.expires_ms > ?",
                (token_hash, now_ms),
            )
        return User(*rows[0]) if rows else None

    async def delete_session(self, token_hash: bytes) -> None:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    async def record_login_failure(self, key: str, now_ms: int) -> None:
        async with self._transaction() as conn:
            await conn.execute("INSERT INTO login_failures (key, at_ms) VALUES (?, ?)", (key, now_ms))

    async def count_login_failures(self, key: str, since_ms: int) -> int:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM login_failures WHERE at_ms < ?", (since_ms,))
            rows = await conn.execute_fetchall(
                "SELECT count(*) FROM login_failures WHERE key = ? AND at_ms >= ?", (key, since_ms)
            )
        return rows[0][0]

    async def clear_login_failures(self, key: str) -> None:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))


def _statements(sql: str) -> list[str]:
    """Split a migration file into statements (our files have no ';' inside literals)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
