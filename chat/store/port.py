"""The Store port: the one source of truth for history, rooms and accounts.

Contract shared by every backend (tests/contract/test_store.py runs it against each):
- `append_batch` commits all new messages of a batch in one transaction and returns only after
  the commit is durable. Within a room, seq is assigned head+1, head+2, … with no hole and no
  duplicate, also when several nodes append concurrently.
- A repeated (room_id, author_id, cid) never creates a row: its outcome carries the original
  message with created=False (also when both copies are in the same batch).
- Reads return messages in ascending seq order.
"""

from __future__ import annotations

from typing import Protocol

from chat.models import Message, Role, Room, SendOutcome, SendRequest, User


class Store(Protocol):
    dialect: str

    async def ping(self) -> None:
        """Raise if the store cannot answer a trivial query."""

    async def migrate(self) -> list[str]:
        """Apply pending migrations once (safe when several nodes start together); seed rooms.
        Returns the versions applied by this call."""

    # -- rooms and history -----------------------------------------------------------------

    async def list_rooms(self, kinds: tuple[str, ...]) -> list[Room]: ...

    async def get_room(self, room_id: str) -> Room | None: ...

    async def room_heads(self, room_ids: list[str]) -> dict[str, int]:
        """Current head seq of each existing room among room_ids."""

    async def append_batch(self, sends: list[SendRequest], now_ms: int) -> list[SendOutcome]:
        """Commit a group of sends (see module contract); outcomes match sends by index."""

    async def messages_after(self, room_id: str, after_seq: int, limit: int) -> list[Message]:
        """Messages with seq > after_seq, oldest first, at most limit."""

    async def messages_before(self, room_id: str, before_seq: int, limit: int) -> list[Message]:
        """The `limit` messages just before before_seq, returned oldest first."""

    # -- accounts --------------------------------------------------------------------------

    async def create_user(
        self, email: str, display_name: str, password_hash: str, role: Role, now_ms: int
    ) -> User:
        """Raises EmailTaken if the (lower-cased) email exists."""

    async def user_credentials(self, email: str) -> tuple[User, str] | None:
        """The user and password hash for an email, or None."""

    async def set_role(self, user_id: int, role: Role) -> None: ...

    async def create_session(self, token_hash: bytes, user_id: int, expires_ms: int) -> None: ...

    async def session_user(self, token_hash: bytes, now_ms: int) -> User | None:
        """The user of an unexpired session, or None."""

    async def delete_session(self, token_hash: bytes) -> None: ...

    async def record_login_failure(self, key: str, now_ms: int) -> None: ...

    async def count_login_failures(self, key: str, since_ms: int) -> int: ...

    async def clear_login_failures(self, key: str) -> None: ...

    async def close(self) -> None: ...
