"""Attachments: the files a message, topic, news post or webinar description holds.

The rooms layer does not import the file service (chat/files depends on chat/rooms for its
"room:" access rule); it sees it through this port, which node.py fills with `node.files`
(RoomService.use_files). Scopes and refs are the design's (docs/protocol.md, "Attachments"):
files are attached to "room:<room>" before the holder is committed (so they are readable by
whoever may read that room) and bound to the holder ("msg:<room>:<id>", "topic:<id>",
"webinar:<id>") after; a deleted holder releases them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from chat.errors import InvalidInput
from chat.models import User


class FileBinder(Protocol):
    async def attach(self, user: User, file_ids: Sequence[str], scope: str,
                     holder: str | None = None) -> list[dict[str, Any]]: ...

    async def bind_ref(self, file_ids: Sequence[str], ref: str) -> None: ...

    async def release(self, ref: str, file_ids: Sequence[str] | None = None) -> int: ...


class NoFiles:
    """A node without the file service (unit tests of other parts): attaching is refused."""

    async def attach(self, user: User, file_ids: Sequence[str], scope: str,
                     holder: str | None = None) -> list[dict[str, Any]]:
        if file_ids:
            raise InvalidInput("this node stores no files", details={"attachments": "no such file"})
        return []

    async def bind_ref(self, file_ids: Sequence[str], ref: str) -> None:
        return None

    async def release(self, ref: str, file_ids: Sequence[str] | None = None) -> int:
        return 0


def room_scope(room_id: str) -> str:
    return f"room:{room_id}"


def message_ref(room_id: str, message_id: str) -> str:
    return f"msg:{room_id}:{message_id}"

