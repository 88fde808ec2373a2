"""Deleting an account (docs/protocol.md, "Deleting an account"): the member confirms with their
password (and a code with two-factor on) and chooses what becomes of their messages — `keep`:
they stay, their author shown as "deleted member"; `erase`: each one they wrote is deleted
through the rooms' delete path (a `delete` event in each room, so every reader's room order
stays gapless and the tombstone reaches them live). Then the account's row is blanked and its
personal rows go (chat/store/deletion.py), and every session ends on every node."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Literal

import structlog

from chat.accounts.service import AccountService
from chat.errors import ChatError, Conflict
from chat.models import User
from chat.store.port import Store

log = structlog.get_logger("chat.accounts")

MessagesChoice = Literal["keep", "erase"]
PAGE = 200
# Deletes one message as its author: RoomService.delete (user, room, message id, cid).
DeleteMessage = Callable[[User, str, str, str], Awaitable[object]]


def erase_cid(message_id: str) -> str:
    """The delete's client id: the same for a message on every try, so a retried erase never
    writes a second `delete` event (invariant 3)."""
    return "erase-" + hashlib.sha256(message_id.encode()).hexdigest()[:32]


class AccountDeletion:
    def __init__(self, store: Store, accounts: AccountService, delete_message: DeleteMessage) -> None:
        self._store = store
        self._accounts = accounts
        self._delete_message = delete_message

    async def delete(self, user: User, password: str, code: str | None, messages: MessagesChoice,
                     address: str) -> int:
        """Delete the member's account; the number of messages erased (0 for `keep`). Raises
        what AccountService.confirm_identity raises, GuestScope for a guest, and Conflict for
        the last admin (before any message is erased)."""
        await self._accounts.confirm_identity(user, password, code, address)
        if await self._store.is_last_admin(user.user_id):
            raise Conflict("the last admin cannot delete their account; make another member admin first")
        erased = 0
        if messages == "erase":
            erased += await self._erase(user)
        await self._accounts.remove(user)
        if messages == "erase":  # what a socket sent while the first pass ran
            erased += await self._erase(user)
        log.info("accounts.deleted", user_id=user.user_id, messages=messages, erased=erased)
        return erased

    async def _erase(self, user: User) -> int:
        erased, after = 0, ("", 0)
        while page := await self._store.own_messages(user.user_id, after, PAGE):
            for message in page:
                if message.deleted:
                    continue
                try:
                    await self._delete_message(user, message.room_id, message.message_id,
                                               erase_cid(message.message_id))
                    erased += 1
                except ChatError as exc:  # e.g. a room since closed to them: logged, kept
                    log.warning("accounts.erase_refused", user_id=user.user_id, code=exc.code)
            after = (page[-1].room_id, page[-1].seq)
        return erased
